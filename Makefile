# Thin wrappers over the npm scripts in package.json; npm is the source of truth.
#   make cluster ARGS="--nodes 5 --fresh"   passes options to scripts/cluster.mjs
ARGS ?=

.PHONY: build test cluster sim bench clean docker

build:
	npm run build

test:
	npm test

cluster:
	npm run cluster -- $(ARGS)

sim:
	npm run sim -- $(ARGS)

bench:
	npm run bench -- $(ARGS)

clean:
	npm run clean

docker:
	npm run docker
