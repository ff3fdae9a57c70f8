# moderatord - build, run, test, benchmark.
# `make run` and `make test` install what is missing (Debian 12, as root) before anything else.

BUILD     ?= build
CC        ?= cc
PKGS      := libmicrohttpd jansson sqlite3 hunspell libutf8proc libcrypto
CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
             -Iinclude $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
SANITIZE  ?=
# -fno-sanitize-recover: a sanitizer report ends the process, so any report fails the tests.
ifneq ($(SANITIZE),)
CFLAGS    += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS   += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif

# Debian packages the build, the tests and the benchmarks need.
DEB_PKGS  := build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3 \
             libhunspell-dev hunspell-en-us libutf8proc-dev libssl-dev libcmocka-dev \
             curl python3 python3-pytest wrk
DEB_STAMP := $(BUILD)/.deps

# The pure engine (no HTTP, JSON or SQL), the store (the only sqlite3.h users), and the daemon's
# HTTP and API layers; moderatorctl links the engine, the store and the API modules it reuses.
ENGINE_SRC := daemon/error.c daemon/strmap.c daemon/normalize.c daemon/speller.c daemon/rules.c \
              daemon/analyze.c daemon/match.c daemon/policy.c daemon/engine.c daemon/lint.c
STORE_SRC  := daemon/store.c daemon/store_moderation.c daemon/store_audit.c
API_SRC    := daemon/api.c daemon/http.c daemon/log.c daemon/config.c daemon/reload.c \
              daemon/api_admin.c daemon/api_moderation.c daemon/static.c daemon/metrics.c \
              daemon/api_compat.c daemon/perspective.c daemon/akismet.c daemon/coral.c
CTL_SRC    := daemon/ctl.c daemon/ctl_common.c daemon/eval.c daemon/ctl_moderation.c daemon/ctl_admin.c \
              daemon/api.c daemon/log.c daemon/api_moderation.c daemon/metrics.c \
              daemon/api_admin.c daemon/reload.c daemon/config.c
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
STORE_OBJ  := $(STORE_SRC:%.c=$(BUILD)/%.o)
API_OBJ    := $(API_SRC:%.c=$(BUILD)/%.o)
CTL_OBJ    := $(CTL_SRC:%.c=$(BUILD)/%.o)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all deps run test unit-build sanitize bench eval fuzz clean calibrate node-deps clients-deps browser-deps install
all: $(BUILD)/moderatord $(BUILD)/moderatorctl

# Installs only what is missing; a no-op on a machine that has everything.
deps: $(DEB_STAMP)
$(DEB_STAMP):
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: %.c $(wildcard include/*.h) | $(DEB_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/moderatord: $(BUILD)/daemon/main.o $(API_OBJ) $(ENGINE_OBJ) $(STORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/moderatorctl: $(CTL_OBJ) $(ENGINE_OBJ) $(STORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(ENGINE_OBJ) $(STORE_OBJ) $(API_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# Perspective calibration: scores ../shared/data with the engine and refits the table in
# daemon/perspective_calibration.h (tools/calibrate/README.md says how). Run by hand, not by tests.
$(BUILD)/calibrate-features: tools/calibrate/features.c $(API_OBJ) $(ENGINE_OBJ) $(STORE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

calibrate: deps
	@$(MAKE) --no-print-directory $(BUILD)/calibrate-features
	$(BUILD)/calibrate-features rules $(sort $(wildcard ../shared/data/*.jsonl)) > $(BUILD)/calibration.tsv
	node tools/calibrate/fit.mjs $(BUILD)/calibration.tsv > $(BUILD)/perspective_calibration.h
	mv $(BUILD)/perspective_calibration.h daemon/perspective_calibration.h

# Serves on 127.0.0.1:8080 with ./rules and ./var/moderatord.db; creates keys on first run.
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p var
	@if [ ! -f var/moderatord.db ]; then \
	  for role in cms moderator admin; do \
	    key=$$($(BUILD)/moderatorctl --db var/moderatord.db key add --role $$role --name $$role-default | tail -n 1) || exit 1; \
	    echo "created $$role key: $$key"; \
	  done; \
	fi
	exec $(BUILD)/moderatord --listen 127.0.0.1:8080 --db var/moderatord.db --rules rules

# deps first, in its own make, so pkg-config sees the freshly installed libraries.
test: deps clients-deps browser-deps
	@$(MAKE) --no-print-directory all unit-build
	@BUILD=$(BUILD) tests/run.sh

# Node.js and npm from Debian when node is missing: the browser and client tests run on them.
node-deps:
	@command -v node >/dev/null 2>&1 || { echo "installing: nodejs npm"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } || exit 1

# The browser test (tests/browser) drives Debian's chromium with playwright-core: chromium from
# Debian when missing, and the pinned playwright-core (no browser download of its own) when
# tests/browser/node_modules is missing.
browser-deps: node-deps
	@[ -x /usr/bin/chromium ] || { echo "installing: chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || exit 1
	@[ -d tests/browser/node_modules ] || (cd tests/browser && npm install --no-audit --no-fund)

# The client tests (tests/clients) run real npm clients: the pinned packages of
# tests/clients/package.json when node_modules is missing.
clients-deps: node-deps
	@[ -d tests/clients/node_modules ] || (cd tests/clients && npm install --no-audit --no-fund)

unit-build: $(UNIT_TESTS)

sanitize:
	$(MAKE) BUILD=build-asan SANITIZE=address,undefined test

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bench/run.sh

eval: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/eval.sh

# Coverage-guided fuzzing of the engine with clang's libFuzzer (not part of make test).
fuzz: deps
	@command -v clang >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
	@mkdir -p build-fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Iinclude \
	  $(shell pkg-config --cflags $(PKGS)) $(ENGINE_SRC) tests/fuzz/fuzz_engine.c \
	  -o build-fuzz/fuzz_engine $(LDLIBS)
	@mkdir -p build-fuzz/corpus
	build-fuzz/fuzz_engine -max_total_time=$${FUZZ_SECONDS:-60} build-fuzz/corpus tests/fuzz/corpus

# Installs for the systemd unit: binaries, the review page, the docs; the rules and the settings
# file only when absent, so an upgrade never overwrites an admin's edits.
PREFIX  ?= /usr/local
DESTDIR ?=
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/usr/share/moderatord $(DESTDIR)/etc/moderatord \
	  $(DESTDIR)$(PREFIX)/share/doc/moderatord $(DESTDIR)/etc/systemd/system
	install -m 0755 $(BUILD)/moderatord $(BUILD)/moderatorctl $(DESTDIR)$(PREFIX)/bin/
	rm -rf $(DESTDIR)/usr/share/moderatord/web && cp -R web $(DESTDIR)/usr/share/moderatord/web
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/moderatord/
	install -m 0644 rules/README.md $(DESTDIR)$(PREFIX)/share/doc/moderatord/rules.md
	[ -d $(DESTDIR)/etc/moderatord/rules ] || cp -R rules $(DESTDIR)/etc/moderatord/rules
	[ -f $(DESTDIR)/etc/moderatord/moderatord.conf ] || \
	  install -m 0644 moderatord.conf.sample $(DESTDIR)/etc/moderatord/moderatord.conf
	install -m 0644 systemd/moderatord.service $(DESTDIR)/etc/systemd/system/moderatord.service

clean:
	rm -rf build build-asan build-fuzz
