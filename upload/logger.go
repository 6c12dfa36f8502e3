package upload

import (
	"context"
	"log/slog"

	xslog "golang.org/x/exp/slog"
)

// tusdLogger adapts a log/slog logger to the golang.org/x/exp/slog logger
// tusd v2 takes. tusd logs every request and chunk at Info; those become
// Debug here, so our Info stays readable. Warn and Error keep their level.
func tusdLogger(l *slog.Logger) *xslog.Logger {
	return xslog.New(expHandler{h: l.Handler()})
}

type expHandler struct{ h slog.Handler }

func level(l xslog.Level) slog.Level {
	if l < xslog.LevelWarn {
		return slog.LevelDebug
	}
	return slog.Level(l)
}

func (e expHandler) Enabled(ctx context.Context, l xslog.Level) bool {
	return e.h.Enabled(ctx, level(l))
}

func (e expHandler) Handle(ctx context.Context, r xslog.Record) error {
	rec := slog.NewRecord(r.Time, level(r.Level), "tusd: "+r.Message, r.PC)
	r.Attrs(func(a xslog.Attr) bool {
		rec.AddAttrs(attr(a))
		return true
	})
	return e.h.Handle(ctx, rec)
}

func (e expHandler) WithAttrs(as []xslog.Attr) xslog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = attr(a)
	}
	return expHandler{h: e.h.WithAttrs(out)}
}

func (e expHandler) WithGroup(name string) xslog.Handler {
	return expHandler{h: e.h.WithGroup(name)}
}

func attr(a xslog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case xslog.KindBool:
		return slog.Bool(a.Key, v.Bool())
	case xslog.KindDuration:
		return slog.Duration(a.Key, v.Duration())
	case xslog.KindFloat64:
		return slog.Float64(a.Key, v.Float64())
	case xslog.KindInt64:
		return slog.Int64(a.Key, v.Int64())
	case xslog.KindString:
		return slog.String(a.Key, v.String())
	case xslog.KindTime:
		return slog.Time(a.Key, v.Time())
	case xslog.KindUint64:
		return slog.Uint64(a.Key, v.Uint64())
	case xslog.KindGroup:
		g := v.Group()
		as := make([]any, len(g))
		for i, ga := range g {
			as[i] = attr(ga)
		}
		return slog.Group(a.Key, as...)
	default:
		return slog.Any(a.Key, v.Any())
	}
}
