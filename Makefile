# sluice — build, test, demo. Run as root on Debian for the network tests (CI does).
SHELL := /bin/bash
NODE  ?= node
TSC   := npx --no-install tsc
ESLINT   := npx --no-install eslint
PRETTIER := npx --no-install prettier
# 1: `make lint` also checks the layout is Prettier's (`make format` writes it).
PRETTIER_CHECK ?= 1
# Compiled tests of the sources that exist: a test file deleted from the tree stays in dist/
# (tsc never removes outputs), and must not run.
UNIT_TESTS = $(patsubst %.ts,dist/%.js,$(shell find lib agent bench -name '*.test.ts' 2>/dev/null | sort))
UNIT_CONCURRENCY ?= 2
# Unit tests held to the clock: the liveness probers' detection and hold-down windows (real sockets,
# a worker thread) and the controller replicas' Lease elections (Lease periods of a second or less).
# Two files at a time on a loaded two-core machine missed those windows, so they run one file at a
# time with the end-to-end files, where no other test file competes with them for the CPU.
TIMED_UNIT_TESTS = $(filter dist/lib/liveness/prober.test.js dist/lib/liveness/prober-thread.test.js \
	dist/lib/controller/control-plane.test.js dist/lib/controller/controller-process.test.js,$(UNIT_TESTS))
E2E_TESTS  = $(patsubst %.ts,dist/%.js,$(shell find e2e -name '*.test.ts' 2>/dev/null | sort))

.PHONY: all deps build crds lint format test unit e2e soak demo bench image clean

all: build

# Debian packages (nftables, iproute2, tcpdump, …): installed only when something is missing.
deps:
	@.ci/install-deps

node_modules: package-lock.json
	npm ci
	@touch node_modules

build: deps node_modules
	$(TSC) -p tsconfig.json
	chmod +x dist/agent/main.js
	@$(NODE) dist/agent/tools/write-build-info.js

crds: build
	$(NODE) dist/agent/tools/write-crds.js manifests/crds

lint: build
	$(TSC) -p tsconfig.json --noEmit
	$(NODE) dist/agent/tools/check-boundaries.js
	$(ESLINT) .
ifeq ($(PRETTIER_CHECK),1)
	$(PRETTIER) --check .
endif

# Applies ESLint's fixes, then Prettier's layout (Prettier has the last word on layout).
format: node_modules
	$(ESLINT) --fix .
	$(PRETTIER) --write --log-level=warn .

unit: build
	unit=0; $(NODE) --test --test-reporter=spec --test-concurrency=$(UNIT_CONCURRENCY) $(filter-out $(TIMED_UNIT_TESTS),$(UNIT_TESTS)) || unit=$$?; \
	$(NODE) --test --test-reporter=spec --test-concurrency=1 $(TIMED_UNIT_TESTS) || exit $$?; \
	exit $$unit

e2e: build
	$(NODE) --test --test-reporter=spec --test-concurrency=1 $(E2E_TESTS)

# make test: the unit tests UNIT_CONCURRENCY files at a time (CPU-bound, nothing shared between
# files), then the timed unit tests and the end-to-end tests one file at a time (each end-to-end
# file brings up a lab, and several measure timings on it); both run even when the first part
# fails, and make test fails if either did.
test: lint
	unit=0; $(NODE) --test --test-reporter=spec --test-concurrency=$(UNIT_CONCURRENCY) $(filter-out $(TIMED_UNIT_TESTS),$(UNIT_TESTS)) || unit=$$?; \
	$(NODE) --test --test-reporter=spec --test-concurrency=1 $(TIMED_UNIT_TESTS) $(E2E_TESTS) || exit $$?; \
	exit $$unit

# The long reliability runs: 100 applies SIGKILLed at random points (make test runs 6).
soak: build
	SLUICE_KILL_APPLIES=100 $(NODE) --test --test-reporter=spec dist/e2e/dataplane/kill-apply.test.js

# The reliability scenarios at full scale (two 5-minute API server outages, 1000 malformed
# objects through kubectl, 10 000 DNS lookups each followed by a connection through a firewall's
# rule by name); make test runs them at a short scale, make soak runs them too.
RELIABILITY_SOAK_TESTS = dist/e2e/scenarios/api-outage.test.js dist/e2e/scenarios/hostile-input.test.js dist/e2e/scenarios/firewall-names.test.js
.PHONY: soak-reliability
soak: soak-reliability
soak-reliability: build
	SLUICE_SOAK=1 $(NODE) --test --test-reporter=spec --test-concurrency=1 $(RELIABILITY_SOAK_TESTS)

demo: build
	$(NODE) dist/e2e/demo/demo.js

bench: build
	$(NODE) dist/bench/run.js

# The agent image, with docker, podman or buildah (whichever works here); IMAGE=… to name it.
IMAGE ?= sluice:$(shell $(NODE) -p 'require("./package.json").version')
image:
	@image/build.sh "$(IMAGE)"

clean:
	rm -rf dist native/build
