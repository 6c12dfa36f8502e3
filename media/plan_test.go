package media

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func landscapeInfo() *Info {
	return &Info{
		FormatName: "mov,mp4,m4a,3gp,3g2,mj2", Duration: 61.5,
		Video: &VideoStream{Index: 0, Codec: "h264", Width: 1920, Height: 1080, FrameRate: 25, Frames: 1537,
			PixFmt: "yuv420p", DisplayWidth: 1920, DisplayHeight: 1080},
		Audio: &AudioStream{Index: 1, Codec: "aac", Channels: 2, SampleRate: 48000},
	}
}

// goldenCases are hand-written probe results for the golden argument lists.
func goldenCases() map[string]*Info {
	portrait := landscapeInfo()
	portrait.Video.Width, portrait.Video.Height = 1080, 1920
	portrait.Video.DisplayWidth, portrait.Video.DisplayHeight = 1080, 1920
	portrait.Video.FrameRate = 30

	rotated := landscapeInfo() // a phone clip: coded landscape, shown portrait
	rotated.FormatName = "mov,mp4,m4a,3gp,3g2,mj2"
	rotated.Video.Codec = "hevc"
	rotated.Video.Rotation = 90
	rotated.Video.FrameRate = 59.94
	rotated.Video.DisplayWidth, rotated.Video.DisplayHeight = 1080, 1920
	rotated.Audio.Channels = 1
	rotated.Audio.SampleRate = 44100

	noAudio := landscapeInfo()
	noAudio.Audio = nil

	low := landscapeInfo()
	low.FormatName = "avi"
	low.Duration = 12.04
	low.Video.Codec = "mpeg4"
	low.Video.Width, low.Video.Height = 320, 240
	low.Video.DisplayWidth, low.Video.DisplayHeight = 320, 240
	low.Video.FrameRate = 15

	return map[string]*Info{
		"landscape_1080p":    landscapeInfo(),
		"portrait_1080x1920": portrait,
		"rotated_phone":      rotated,
		"no_audio":           noAudio,
		"low_320x240":        low,
	}
}

func TestArgsGolden(t *testing.T) {
	for name, info := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			p, err := NewPlan("/in/source.mp4", info, "/out", DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(p.Args(), "\n") + "\n"
			if again := strings.Join(p.Args(), "\n") + "\n"; again != got {
				t.Fatal("Args is not deterministic")
			}
			file := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./media -run TestArgsGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("args differ from %s (rerun with -update if intended):\n%s", file, diffLines(string(want), got))
			}
		})
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n- " + a + "\n+ " + c + "\n")
		}
	}
	return b.String()
}

func TestLadder(t *testing.T) {
	type wh struct {
		name string
		w, h int
	}
	for _, tc := range []struct {
		name string
		w, h int
		want []wh
	}{
		{"1080p", 1920, 1080, []wh{{"1080p", 1920, 1080}, {"720p", 1280, 720}, {"480p", 854, 480}, {"360p", 640, 360}}},
		{"portrait", 1080, 1920, []wh{{"1080p", 1080, 1920}, {"720p", 720, 1280}, {"480p", 480, 854}, {"360p", 360, 640}}},
		{"4K never above 1080p", 3840, 2160, []wh{{"1080p", 1920, 1080}, {"720p", 1280, 720}, {"480p", 854, 480}, {"360p", 640, 360}}},
		{"480p source", 854, 480, []wh{{"480p", 854, 480}, {"360p", 640, 360}}},
		{"4:3 VGA", 640, 480, []wh{{"480p", 640, 480}, {"360p", 480, 360}}},
		{"just under 720", 1280, 700, []wh{{"720p", 1280, 700}, {"480p", 878, 480}, {"360p", 658, 360}}},
		{"tiny", 320, 240, []wh{{"360p", 320, 240}}},
		{"odd tiny", 175, 99, []wh{{"360p", 176, 100}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []wh
			for _, r := range Ladder(tc.w, tc.h, DefaultLadder()) {
				got = append(got, wh{r.Name, r.Width, r.Height})
				if r.Width%2 != 0 || r.Height%2 != 0 {
					t.Errorf("odd size %dx%d", r.Width, r.Height)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Ladder(%d, %d) = %v, want %v", tc.w, tc.h, got, tc.want)
			}
		})
	}
}

func TestPlanChoices(t *testing.T) {
	for _, tc := range []struct {
		name       string
		info       *Info
		fps        float64
		fpsFilter  string
		download   string
		poster     [2]int
		thumb      [2]int
		posterAt   float64
		audioIndex int
	}{
		{"landscape", goldenCases()["landscape_1080p"], 25, "", "720p", [2]int{1280, 720}, [2]int{320, 180}, 6.15, 1},
		{"rotated 59.94", goldenCases()["rotated_phone"], 59.94 / 2, "30000/1001", "720p", [2]int{720, 1280}, [2]int{180, 320}, 6.15, 1},
		{"no audio", goldenCases()["no_audio"], 25, "", "720p", [2]int{1280, 720}, [2]int{320, 180}, 6.15, -1},
		{"low", goldenCases()["low_320x240"], 15, "", "360p", [2]int{320, 240}, [2]int{320, 240}, 1.204, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlan("in", tc.info, "out", DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if p.FrameRate != tc.fps || p.FPSFilter != tc.fpsFilter {
				t.Errorf("frame rate %v %q, want %v %q", p.FrameRate, p.FPSFilter, tc.fps, tc.fpsFilter)
			}
			if p.Download.Name != tc.download {
				t.Errorf("download %s, want %s", p.Download.Name, tc.download)
			}
			if [2]int{p.PosterW, p.PosterH} != tc.poster || [2]int{p.ThumbW, p.ThumbH} != tc.thumb {
				t.Errorf("poster %dx%d thumb %dx%d", p.PosterW, p.PosterH, p.ThumbW, p.ThumbH)
			}
			if d := p.PosterAt - tc.posterAt; d > 1e-9 || d < -1e-9 {
				t.Errorf("poster at %v, want %v", p.PosterAt, tc.posterAt)
			}
			if p.AudioStream != tc.audioIndex {
				t.Errorf("audio stream %d", p.AudioStream)
			}
			sb := p.Storyboard
			if sb.Count == 0 || sb.Cols*sb.Rows < sb.Count || sb.Count > 100 {
				t.Errorf("storyboard %+v", sb)
			}
			vtt := string(p.StoryboardVTT())
			if !strings.HasPrefix(vtt, "WEBVTT\n\n00:00:00.000 --> ") || strings.Count(vtt, "#xywh=") != sb.Count {
				t.Errorf("storyboard vtt:\n%s", vtt)
			}
		})
	}
}
