package media

import "context"

// measureDuration finds the length of a source whose header states none,
// as in the WebM that browsers' MediaRecorder writes while recording (it
// cannot know the length up front and does not go back to write it): it
// reads the whole source once without decoding and returns the last
// timestamp reached, or 0 when that fails (Validate then refuses the file
// as of unknown length).
func measureDuration(ctx context.Context, input string, c Container) float64 {
	end, _, err := copyPass(ctx, input, c, false)
	if err != nil || end <= 0 {
		return 0
	}
	return end
}
