// Package media turns an uploaded statement into streamable media with
// ffmpeg and ffprobe, and nothing else: no storage, no queue, no catalog.
//
// The worker calls, in order:
//
//	info, err := media.Probe(ctx, src)            // Sniff, then ffprobe JSON → *Info (src: path or presigned URL)
//	warnings, err := media.Validate(info, lim)    // allow-lists and limits → *Rejection
//	err = media.CheckIntegrity(ctx, src, info)    // truncated or damaged → *Rejection
//	plan, err := media.NewPlan(src, info, dir, media.DefaultOptions())
//	err = plan.PrepareOutput()                    // clears what an earlier attempt left
//	args := media.ForceInput(plan.Args(), src, info.InputFormat())
//	damage, err := media.Run(ctx, args, plan.Duration, onPercent)
//	res, err := media.Collect(plan)               // describes the outputs (the statement's media)
//	damage.Missing(res.Duration, plan.Duration).Mostly(plan.Duration) // → damage.Rejection; else damage.Warning
//	master := media.WriteMaster(res, tracks)      // with WriteSubtitlePlaylist + PlaceholderVTT per language
//
// A *Rejection means the input will never work (do not retry; wrap
// asynq.SkipRetry); its Reason is written in English for the organisation
// that uploaded it and says what to do, and its Key and Args name the
// i18n catalogue message that says the same in French and Spanish. Every
// other error is internal or transient. After a failed or cancelled Run the outputs must be
// ignored: ffmpeg finishes its playlists even on SIGTERM.
//
// # Reading an upload
//
// An upload is hostile until shown otherwise. Probe first reads its first
// SniffSize bytes (Head) and decides from them what it is (Sniff): a
// container we accept, or a refusal naming what the file is — a playlist
// or list of other files (HLS, DASH, ffconcat, SDP), a document, text, an
// archive, an image, sound only. Every ffprobe and ffmpeg run on the
// upload then has its container forced (-f, -format_whitelist) and its
// protocols limited to what its URL needs (-protocol_whitelist: http,tcp
// or https,tls,tcp for a presigned URL, file for a path), so nothing in
// the file makes ffmpeg open anything else.
//
// # Damage
//
// A file can be whole (the probe and the integrity pass read it without
// complaint) and still carry garbage where its picture or sound should
// be; only decoding shows it, and the run decodes every frame once. Run
// reads ffmpeg's log with its levels as it comes and places each decoder
// error in media time by the graph's clock (ClockFilter: the time of one
// decoded frame every ClockStep seconds). The Damage it returns lists the
// damaged stretches, joined when closer than DamageMergeGap; past
// MostlyDamaged of the duration the statement is refused, below it staff
// get a warning naming the stretches.
//
// # What one run produces
//
// One ffmpeg process decodes the source once; split/asplit feed:
//
//	hls/{rung}/index.m3u8, init.mp4, seg_00000.m4s …   fMP4 HLS, 6 s segments, 2 s GOP
//	download.mp4                                        720p (or less), faststart
//	poster.jpg (≤1280 long side), thumb.jpg (≤320)      frame at 10% of the duration
//	storyboard.jpg + storyboard.vtt                     one 160 px tile every max(2, ⌈d/100⌉) s
//
// master.m3u8 (WriteMaster) belongs in the output root: its rung URIs are
// "hls/{rung}/index.m3u8". Names are fixed, so a re-run overwrites.
//
// # Ladder
//
// DefaultLadder: 1080p 5000k, 720p 2800k, 480p 1400k, 360p 800k (VBV peak
// 1.25x, buffer 2x), H.264 High, x264 veryfast, AAC-LC 128k stereo 48 kHz
// muxed into every rung. Rungs are chosen on the short side of the
// displayed picture (after rotation and sample aspect ratio), so portrait
// clips get portrait rungs with the same names. A rung is made when the
// source reaches 90% of it and never exceeds the source; a source below
// 360p gets a single "360p" rung at its own size. download.mp4 reuses the
// scaled picture of the largest rung not above 720p (no second scaler).
// Frame rates above 30 are halved (59.94 → 29.97, 50 → 25). The GOP is
// forced on the clock (expr:gte(t,n_forced*2)) as well as by -g, so
// segments start on keyframes for any frame rate, VFR included.
//
// Audio: stereo downmix, one single-pass loudnorm (I=-16, TP=-1.5,
// LRA=11), resampled to 48 kHz and padded to the duration; a source
// without audio gets generated silence (anullsrc) so every rung has audio.
//
// Captions: ffmpeg's fMP4 segments start at decode time 0 (tfdt 0), so
// WebVTT cue times are media times; the files carry
// X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000 (the identity) for HLS
// clients that expect it.
package media
