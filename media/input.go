package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Container is a source's container as Sniff finds it, named as ffmpeg's
// demuxer: the value of `-f` on every ffprobe and ffmpeg run that reads
// the source.
type Container string

// The containers we accept.
const (
	ContainerMOV      Container = "mov"      // QuickTime, MP4, M4V, 3GP
	ContainerMatroska Container = "matroska" // Matroska, WebM
	ContainerAVI      Container = "avi"
	ContainerASF      Container = "asf"    // WMV, ASF
	ContainerMPEGTS   Container = "mpegts" // TS, and AVCHD/Blu-ray MTS/M2TS
	ContainerMPEGPS   Container = "mpeg"   // MPG, VOB
	ContainerFLV      Container = "flv"
	ContainerOgg      Container = "ogg" // OGV
	ContainerDV       Container = "dv"  // raw DV
)

// containerOfFormat maps the first name of ffprobe's format_name to its
// Container, for an Info probed before probes recorded the container.
var containerOfFormat = map[string]Container{
	"mov": ContainerMOV, "matroska": ContainerMatroska, "avi": ContainerAVI, "asf": ContainerASF,
	"mpegts": ContainerMPEGTS, "mpeg": ContainerMPEGPS, "flv": ContainerFLV, "ogg": ContainerOgg, "dv": ContainerDV,
}

// InputFormat is the container to force when reading the source: the one
// Probe sniffed, or for an Info from before Probe sniffed, the one ffprobe
// named. "" when neither is a container we accept.
func (i *Info) InputFormat() Container {
	if i == nil {
		return ""
	}
	if i.Container != "" {
		return i.Container
	}
	first, _, _ := strings.Cut(i.FormatName, ",")
	return containerOfFormat[first]
}

// protocols is the -protocol_whitelist for reading input: the protocols
// its own URL needs (a presigned storage URL: http or https over tcp; a
// path of the directory store: file) and no other, so that nothing inside
// the file can make ffmpeg open another kind of resource.
func protocols(input string) string {
	switch {
	case strings.HasPrefix(input, "https://"):
		return "https,tls,tcp"
	case strings.HasPrefix(input, "http://"):
		return "http,tcp"
	}
	return "file"
}

// restrictions are the input options that pin how ffmpeg reads a source:
// the container forced (no guessing from the bytes or the name), no other
// demuxer opened from inside it, and only the protocols its URL needs.
func restrictions(input string, c Container) []string {
	var args []string
	if c != "" {
		args = append(args, "-f", string(c), "-format_whitelist", string(c))
	}
	return append(args, "-protocol_whitelist", protocols(input))
}

// ForceInput returns a copy of the ffmpeg argument list args (Plan.Args)
// with the source's container forced to c and its protocols limited, as
// Probe and CheckIntegrity read it: the options go just before the
// `-i input` that reads the source.
func ForceInput(args []string, input string, c Container) []string {
	at := -1
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-i" && args[i+1] == input {
			at = i
			break
		}
	}
	if at < 0 {
		for i, a := range args {
			if a == "-i" {
				at = i // the source is the first input
				break
			}
		}
	}
	if at < 0 {
		at = len(args)
	}
	out := make([]string, 0, len(args)+6)
	out = append(out, args[:at]...)
	out = append(out, restrictions(input, c)...)
	return append(out, args[at:]...)
}

// headTimeout bounds the read of a source's first bytes.
const headTimeout = time.Minute

// Head reads the first SniffSize bytes of input, a local path or an
// HTTP(S) URL (a presigned storage URL, read with a Range request). A
// shorter file gives fewer bytes; an empty one none. Errors are plain:
// a missing file or a network problem may be worth a retry.
func Head(ctx context.Context, input string) ([]byte, error) {
	var r io.ReadCloser
	if isHTTP(input) {
		ctx, cancel := context.WithTimeout(ctx, headTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, input, nil)
		if err != nil {
			return nil, fmt.Errorf("media: read %s: %v", redactURL(input), unwrapURL(err))
		}
		req.Header.Set("Range", fmt.Sprintf("bytes=0-%d", SniffSize-1))
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("media: read %s: %v", redactURL(input), unwrapURL(err))
		}
		switch resp.StatusCode {
		case http.StatusOK, http.StatusPartialContent:
		case http.StatusRequestedRangeNotSatisfiable: // an empty object
			resp.Body.Close()
			return nil, nil
		default:
			resp.Body.Close()
			return nil, fmt.Errorf("media: read %s: %s", redactURL(input), resp.Status)
		}
		r = resp.Body
	} else {
		f, err := os.Open(input)
		if err != nil {
			return nil, fmt.Errorf("media: read: %w", err)
		}
		r = f
	}
	defer r.Close()
	b := make([]byte, SniffSize)
	n, err := io.ReadFull(r, b)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("media: read %s: %v", redactURL(input), unwrapURL(err))
	}
	return b[:n], nil
}

// unwrapURL drops the *url.Error around a client error, whose text
// repeats the URL with its signature.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// sniffInput reads input's first bytes and sniffs them.
func sniffInput(ctx context.Context, input string) (Container, error) {
	head, err := Head(ctx, input)
	if err != nil {
		return "", err
	}
	return Sniff(head)
}
