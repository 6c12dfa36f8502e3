package media

// Early decides from a probe of an upload's beginning (ffprobe on the
// bytes received so far, with an MP4's index when it was at the end of
// the file, placed where it belongs) whether the whole file will be
// refused, before the rest of it arrives. It returns a *Rejection only
// for what the rest of the file cannot change, and nil when the
// beginning says nothing against the file (or too little): the worker
// examines the whole file as before.
//
// What it refuses:
//   - no video stream but a sound stream, in a container whose header
//     declares every stream (QuickTime/MP4, Matroska/WebM, AVI, ASF); in
//     MPEG-TS, MPEG-PS, FLV or Ogg a video stream may still start later;
//   - a video or sound codec off the allow-lists;
//   - a duration longer than lim.MaxSeconds. A duration read from a
//     prefix is the one the file's header declares, or the span of the
//     prefix itself: never more than what the worker finds in the whole
//     file. A file that declares none (a WebM from MediaRecorder) is
//     never refused as too long here.
//
// What the first bytes alone show (not a video container at all, an
// image, a document, an archive, sound only by its signature) is Sniff's.
func Early(info *Info, lim Limits) *Rejection {
	if info == nil {
		return nil
	}
	if info.Video == nil {
		if info.Audio != nil && declaresStreams[info.Container] {
			return rejectAudioOnly()
		}
		return nil
	}
	if v := info.Video; v.Codec != "" && !allowedVideo[v.Codec] {
		return reject(RejectVideoCodec, "reject.video_codec", "the video is encoded as \"%s\", which we cannot process — please export it as MP4 (H.264) and upload it again", v.Codec)
	}
	if a := info.Audio; a != nil && a.Codec != "" && !allowedAudio[a.Codec] && !hasPCMPrefix(a.Codec) {
		return reject(RejectAudioCodec, "reject.audio_codec", "the sound is encoded as \"%s\", which we cannot process — please export the video as MP4 (H.264 with AAC sound) and upload it again", a.Codec)
	}
	if lim.MaxSeconds > 0 && info.Duration > lim.MaxSeconds+0.5 {
		return reject(RejectTooLong, "reject.too_long", "the file is %s long; statements may be at most %s — please shorten it and upload it again",
			Clock(info.Duration), Clock(lim.MaxSeconds))
	}
	return nil
}

// declaresStreams are the containers whose header lists every stream
// before any data.
var declaresStreams = map[Container]bool{ContainerMOV: true, ContainerMatroska: true, ContainerAVI: true, ContainerASF: true}

func hasPCMPrefix(codec string) bool { return len(codec) > 4 && codec[:4] == "pcm_" }
