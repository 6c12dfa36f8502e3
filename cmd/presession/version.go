package main

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"

	"github.com/uprinfo/presession/internal/buildinfo"
)

// runVersion prints which build this is, one "key value" per line.
func runVersion(stdout io.Writer) {
	b := buildinfo.Read()
	fmt.Fprintf(stdout, "version  %s\ncommit   %s\nbuilt    %s\ngo       %s %s/%s\n",
		b.Version, b.Commit, b.Built, b.Go, runtime.GOOS, runtime.GOARCH)
}

// buildAttrs are the build's version, commit and date as log attributes,
// inlined (version=… commit=… built=…), for the first log line.
func buildAttrs() slog.Attr {
	b := buildinfo.Read()
	return slog.Group("", "version", b.Version, "commit", b.Commit, "built", b.Built)
}
