# make run    start presession on the embedded default (in-process Redis,
#             storage under ./data); installs ffmpeg when missing
# make test   install what is missing, start throwaway Redis and S3, check
#             the third-party notices, run go vet and every test with the
#             race detector (.ci/run calls it)
# make bench  the benchmarks, with the same services
# make image  the Docker image, stamped with the version (needs Docker)
#
# Developers: make test PKG=./storage/... TEST_ARGS='-run Conformance -v'
#             scripts/notices.sh regenerates THIRD_PARTY_NOTICES

.PHONY: run test bench image

run:
	scripts/run.sh $(ARGS)

test:
	scripts/test.sh

bench:
	scripts/test.sh --bench

image:
	docker build $$(scripts/version.sh --build-args) -t presession:local .
