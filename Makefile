# Every target runs on Node.js >= 22: the machine's own, or Node 24 unpacked
# into .tools/node by scripts/ensure-node.sh when the machine's is older.
SHELL := /bin/bash
NODE_BIN := $(shell ./scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)

.PHONY: deps web start test test-unit test-browser check bench infra clean

deps: node_modules/.installed

# `npm install` rather than `npm ci`: npm 11 leaves other platforms' optional
# packages (Biome's binaries) out of the lock file and `npm ci` then refuses
# it; `npm install` installs the locked versions and leaves the lock as it is.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

# The web console, built into static files that the API process serves.
WEB_SOURCES := $(shell find dashboards/web/src -type f) dashboards/web/index.html dashboards/web/vite.config.ts
dashboards/web/dist/index.html: node_modules/.installed $(WEB_SOURCES)
	npx vite build dashboards/web --logLevel warn

web: dashboards/web/dist/index.html

start: deps web
	node bin/lookout.js all --config examples/all-in-one.yaml

check: deps
	npx tsc --noEmit
	npx tsc --noEmit -p dashboards/web
	npx biome check .

test: check web
	npx vitest run
	npx playwright test -c dashboards/web/playwright.config.ts

# The console's tests alone, in Debian's Chromium (installed when missing).
test-browser: deps web
	npx playwright test -c dashboards/web/playwright.config.ts

test-unit: deps
	npx vitest run --project unit

bench: deps web
	node bench/run.ts

# Starts the real servers the integration tests use and keeps them up until Ctrl-C.
infra: deps
	node test/infra/cli.ts

clean:
	rm -rf node_modules .tools .data dashboards/web/dist dashboards/web/test-results
