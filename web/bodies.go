package web

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"time"

	"github.com/uprinfo/presession"
)

// MaxBody bounds a request body of a route without a bound of its own in
// Bodies.Limits: forms and JSON.
const MaxBody = 1 << 20

// Bodies bounds every request body in size and in time, but those of the
// routes it exempts (the tus endpoint, which keeps its own network
// timeout and size limit). A body that grows past its bound reads as an
// *http.MaxBytesError; one that has not arrived Timeout after its
// handler started reads as an ETIMEOUT error, which the handlers answer
// as 408 (and Bodies logs).
type Bodies struct {
	Timeout time.Duration // 0: no time bound
	// Max bounds the body of a route not in Limits.
	Max int64
	// Limits are the bounds of particular routes, by the pattern they
	// were registered with on the mux ("PUT /api/v1/…"); a negative one
	// exempts the route from both bounds.
	Limits map[string]int64
	Log    *slog.Logger
}

// Handler serves mux with the bodies of its requests bounded.
func (b Bodies) Handler(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			mux.ServeHTTP(w, r)
			return
		}
		max := b.Max
		if _, pattern := mux.Handler(r); pattern != "" {
			if l, ok := b.Limits[pattern]; ok {
				max = l
			}
		}
		if max < 0 {
			mux.ServeHTTP(w, r)
			return
		}
		// Once the body is read to its end the server clears the deadline
		// itself (it then watches the connection for a hang-up), so a
		// handler may work past it.
		if b.Timeout > 0 {
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(b.Timeout)) // unsupported: size only
		}
		r.Body = &boundedBody{ReadCloser: http.MaxBytesReader(w, r.Body, max), bodies: &b, r: r}
		mux.ServeHTTP(w, r)
	})
}

// boundedBody is a request body under a read deadline.
type boundedBody struct {
	io.ReadCloser
	bodies *Bodies
	r      *http.Request
	late   bool
}

func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return n, err
	}
	if !b.late && b.bodies.Log != nil {
		b.bodies.Log.WarnContext(b.r.Context(), "request body too slow: cut at the deadline", "method", b.r.Method,
			"path", b.r.URL.Path, "remote", b.r.RemoteAddr, "timeout", b.bodies.Timeout)
	}
	b.late = true
	secs := int(math.Ceil(b.bodies.Timeout.Seconds()))
	return n, presession.Errorf(presession.ETIMEOUT, "the request did not arrive within %d seconds; check the connection and try again", secs).
		Localize("err.body_slow", secs)
}
