# JamPasir: the one place to look for how to build, run and test.
#
#   make run     build and start the simulator (the counter in this terminal)
#   make test    run every test
#   make test-kernel   the real-kernel GPIO suite (QEMU + gpio-sim, ~5 min the first time)
#   make check-systemd the unit's verify and hardening score
#   make soak          100,000 sessions through the daemon's wiring: memory and fds flat
#   make torture       crash loop: SIGKILL at random instants, store checked after each restart
#                      (TORTURE_LONG=1 for 1,000 kills)
#   make simulate-day  the second promise: waits with 2 to 6 counters over simulated office days
#                      (the counter's demo sessions; README "The queue")
#   make bench         store and export benchmarks against their anchors (BENCHMARKS.md)
#   make bench-hostile what a hostile export costs the hub: memory and time of import, verify, push
#   make test-hub-load the real hub serving 8 counters' calls, the hall and pushes for 60 s beside
#                      slowhttptest and hostile bundles: no call past 3 s, peak RSS under 150 MB
#   make test-arm64    the test suite and the crash loop cross-built for aarch64, run under qemu-user
#   make test-counter  the arm64 package on a real Debian 13 arm64 boot (systemd, QEMU): the journeys
#   make test-prometheus the office level on Debian's prometheus and node-exporter: rules, a live
#                      scrape of the simulator, the wallboard in headless Chromium
#   make docs          manual pages and shell completions into .build/share (the package ships them)
#   make deb           dist/jampasir_<version>+deb<N>_<arch>.deb for this machine;
#                      make deb ARCH=arm64: for the Pi (Debian 13 / Raspberry Pi OS trixie), cross-built
#   make test-deb      lintian + install/purge in a fresh chroot of the package's release (ARCH=arm64 too)
#   make check-fresh   every suite's install step and preflight in a new Debian 12 machine's root
#                      (scripts/deps.table: what each suite needs); run it when a tool list changes
#
# Variables: STORE (simulator store), LIMIT (seconds, e.g. LIMIT=10 for a quick try), CONFIG,
# ARCH and RELEASE (packages: amd64/arm64, trixie/bookworm).

STORE  ?= .state/jampasir.sqlite
LIMIT  ?=
CONFIG ?=
DAEMON_FLAGS = --simulate --store $(STORE) $(if $(LIMIT),--limit $(LIMIT)) $(if $(CONFIG),--config $(CONFIG))
CLI_FLAGS = --store $(STORE) $(if $(CONFIG),--config $(CONFIG))
PACKAGE_FLAGS = $(if $(ARCH),ARCH=$(ARCH)) $(if $(RELEASE),RELEASE=$(RELEASE))

.PHONY: all deps build release run docs test test-kernel test-arm64 test-counter test-prometheus check-systemd check-fresh deb test-deb bench bench-hub bench-hostile test-hub-load torture soak sessions stats simulate-day clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	swift build

release: deps
	swift build -c release

run: deps
	swift build --product jampasird
	swift build --product jampasir
	.build/debug/jampasird $(DAEMON_FLAGS)
	@echo
	@echo "Sessions so far:  make sessions   (or: .build/debug/jampasir sessions $(CLI_FLAGS))"
	@echo "Statistics:       make stats"

sessions:
	@swift build --product jampasir >/dev/null
	@.build/debug/jampasir sessions $(CLI_FLAGS)

stats:
	@swift build --product jampasir >/dev/null
	@.build/debug/jampasir stats $(CLI_FLAGS)

simulate-day: deps
	@scripts/simulate-day.sh

test: deps
	scripts/run-tests.sh

test-kernel: deps
	Tests/kernel/run.sh

test-arm64: deps
	$(PACKAGE_FLAGS) scripts/test-arm64.sh

test-counter: deps
	Tests/counter/run.sh

test-prometheus: deps
	swift build --product jampasird
	swift build --product jampasir
	Tests/prometheus/run.sh

bench: deps
	scripts/bench.sh

bench-hub: deps
	scripts/bench-hub.sh

bench-hostile: deps
	scripts/bench-hostile.sh

test-hub-load: deps
	scripts/test-hub-load.sh

soak: deps
	SOAK_SESSIONS=$(or $(SESSIONS),100000) swift test --disable-xctest --filter SoakTests 2>&1 | grep -E "soak:|passed|failed"

# The binaries as the package ships them (static Swift runtime), built once for the crash loop,
# the real-kernel suite's v1 boot and the package (scripts/make-deb.sh): .build-static-v1.
torture: deps
	swift build -c release --static-swift-stdlib --scratch-path .build-static-v1 --product jampasird
	swift build -c release --static-swift-stdlib --scratch-path .build-static-v1 --product jampasir
	python3 scripts/torture.py --bin .build-static-v1/release $(if $(TORTURE_LONG),--iterations 1000)

docs: deps
	scripts/make-docs.sh

check-systemd: deps
	scripts/check-systemd.sh

check-fresh:
	scripts/check-fresh.sh

deb: deps
	$(PACKAGE_FLAGS) scripts/make-deb.sh

test-deb: deps
	$(PACKAGE_FLAGS) scripts/test-deb.sh

clean:
	rm -rf .build .build-static-* .build-kernel .build-deb .build-*-arm64 .build-*-amd64 .build-counter .build-prometheus .state dist
