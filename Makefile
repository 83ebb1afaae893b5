# Every target runs on Node.js >= 22: the machine's own, or Node 24 unpacked
# into .tools/node by scripts/ensure-node.sh when the machine's is older.
SHELL := /bin/bash
NODE_BIN := $(shell ./scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)

.PHONY: deps start test test-unit check bench infra clean

deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

start: deps
	node bin/lookout.ts all --config examples/all-in-one.yaml

check: deps
	npx tsc --noEmit
	npx biome check .

test: check
	npx vitest run

test-unit: deps
	npx vitest run --project unit

bench: deps
	node bench/run.ts

# Starts the real servers the integration tests use and keeps them up until Ctrl-C.
infra: deps
	node test/infra/cli.ts

clean:
	rm -rf node_modules .tools .data
