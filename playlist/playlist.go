// Package playlist stitches a country's approved statements, in the order
// staff set, into one continuous HLS stream and a JSON playlist, keeps the
// result in storage, and serves it (and the statements' media) to the
// people allowed to see it.
//
// # Building
//
// [Build] is pure: from the session, the country and the approved
// statements it produces a [Result] holding the JSON playlist, a
// multivariant master, one media playlist per rung name and one subtitle
// playlist per session language. Every statement boundary is an
// EXT-X-DISCONTINUITY followed by that statement's EXT-X-MAP, at the same
// place in every rung and subtitle playlist. A statement that lacks a rung
// (rungs never upscale) contributes its closest lower rung, so every rung
// covers every statement. Master attributes are true for every statement:
// BANDWIDTH is the maximum, AVERAGE-BANDWIDTH the duration-weighted mean,
// CODECS a union (one avc1 string general enough for every profile and
// level used), RESOLUTION the rung's largest, FRAME-RATE the highest.
//
// Subtitles are one WebVTT segment per statement and language, its EXTINF
// the statement's span in the stream. The segment is served by this package
// (GET /playlists/{s}/{cc}/subs/{lang}/{id}.vtt) from the statement's
// caption (real or placeholder) with an X-TIMESTAMP-MAP that ties cue time
// 0 to the first presentation time of the statement's fMP4 media, measured
// at rebuild time by [StartTime] (ffmpeg's fMP4 output starts its video at
// the composition offset of its first frame, and a source with an offset
// start keeps it), so captions show at the right time inside the statement.
//
// # Stored form and URIs
//
// A build is stored as one JSON object, playlists/{session}/{CC}/build.json
// (see [Rebuilder]), written only when its [Result.Version] changes. URIs
// inside the stored playlists carry no credentials: playlist-to-playlist
// URIs are relative ("720p.m3u8", "subs/fr.m3u8", "fr/ID.vtt") and media
// URIs are absolute paths (/media/{statement}/hls/720p/seg_00000.m4s).
// When a request carries ?key=, [WithKey] adds the key to every URI on the
// way out, so a player that has only the playlist URL can fetch everything.
//
// # Nothing approved yet
//
// A build of zero statements is valid: its JSON playlist lists no
// statements and a total duration of 0. A multivariant playlist needs at
// least one variant whose attributes describe real media, so the HLS
// routes answer 404 with a JSON error (code not_found) until a statement
// is approved, instead of serving an invalid or misleading master.
package playlist

// # What the media must be like
//
// Stitching copies segments; it cannot fix them. Two properties of each
// statement's encoding decide whether players cross its boundaries, both
// verified with real players in this package's tests:
//
//   - Its video must present from the same time as its audio. x264 with
//     B-frames makes ffmpeg's fMP4 start the video at the composition
//     offset of its first frame (0.08 s at 25 fps) while AAC starts at 0;
//     at a discontinuity Chromium's native HLS then leaves a gap between
//     the statements and stalls there. Encoding with
//     -hls_segment_options movflags=+negative_cts_offsets (or -bf 0)
//     starts both at 0; the rebuild logs a warning when it is not so.
//   - Its H.264 parameter sets should also be in-band
//     (-bsf:v dump_extra=freq=keyframe): ffmpeg's HLS reader keeps the
//     first EXT-X-MAP's decoder configuration, so a statement whose init
//     segment differs (another rung standing in, another level) decodes
//     with errors unless each keyframe carries its SPS/PPS.
