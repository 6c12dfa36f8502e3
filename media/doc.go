// Package media turns an uploaded statement into streamable media with
// ffmpeg and ffprobe, and nothing else: no storage, no queue, no catalog.
//
// The worker calls, in order:
//
//	info, err := media.Probe(ctx, src)            // ffprobe JSON → *Info
//	warnings, err := media.Validate(info, lim)    // allow-list, limits → *Rejection
//	err = media.CheckIntegrity(ctx, src, info)    // truncated/damaged → *Rejection
//	plan, err := media.NewPlan(src, info, dir, media.DefaultOptions())
//	err = plan.PrepareOutput()                    // clear old outputs of a previous attempt
//	err = media.Run(ctx, plan.Args(), plan.Duration, onPercent)
//	res, err := media.Collect(plan)               // describe what was produced
//	master := media.WriteMaster(res, subtitleTracks)
//
// A *Rejection means the input will never work (the worker should not
// retry); its message is written for the organisation that uploaded it.
// Every other error is an internal or transient failure.
//
// Output layout under the plan's output directory (names are fixed, so a
// re-run overwrites):
//
//	hls/{rung}/index.m3u8, hls/{rung}/init.mp4, hls/{rung}/seg_00000.m4s …
//	download.mp4, poster.jpg, thumb.jpg, storyboard.jpg, storyboard.vtt
package media
