# make run    start presession on the embedded default (in-process Redis,
#             storage under ./data); needs Go and ffmpeg/ffprobe on PATH
# make test   install what is missing, start throwaway Redis and S3, run
#             go vet and every test with the race detector (.ci/run calls it)
# make bench  the benchmarks, with the same services
#
# Developers: make test PKG=./storage/... TEST_ARGS='-run Conformance -v'

.PHONY: run test bench

run:
	go run ./cmd/presession

test:
	scripts/test.sh

bench:
	scripts/test.sh --bench
