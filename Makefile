# make run    start presession on the embedded default (in-process Redis,
#             storage under ./data); installs ffmpeg when missing
# make test   install what is missing, start throwaway Redis and S3, run
#             go vet and every test with the race detector (.ci/run calls it)
# make bench  the benchmarks, with the same services
#
# Developers: make test PKG=./storage/... TEST_ARGS='-run Conformance -v'

.PHONY: run test bench

run:
	scripts/run.sh $(ARGS)

test:
	scripts/test.sh

bench:
	scripts/test.sh --bench
