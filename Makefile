# SPDX-License-Identifier: GPL-2.0
#
# slicepool: out-of-tree Linux storage stack.
#
#   make            modules (against KDIR) and the tools
#   make check      every test: lint, host unit tests, guest selftests
#   make check-full make check and the long runs (soaks, stress)
#   make demo       the main job, in a guest
#   make lint       checkpatch --strict, sparse, shellcheck, SPDX, rst
#   make bench      benchmarks against peers in a guest
#   make install    modules into /lib/modules/<ver>/updates, tools into PREFIX
#   make deps       install what the build and the bench need (Debian)
#
# KVER defaults to the newest installed kernel that has kbuild headers;
# KDIR to its build tree.  Warnings are errors (WERROR=0 to relax locally).

KVER   ?= $(shell $(CURDIR)/tools/bench/kver.sh 2>/dev/null)
KDIR   ?= /lib/modules/$(KVER)/build
PREFIX ?= /usr/local
DESTDIR ?=
WERROR ?= 1

ifeq ($(WERROR),1)
KCFLAGS_ALL := -Werror
endif
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) KCFLAGS="$(KCFLAGS_ALL) $(KCFLAGS)"
KMAKE_TM = $(MAKE) -C $(KDIR) M=$(CURDIR)/selftests/bench-cases KCFLAGS="$(KCFLAGS_ALL)"

HOSTCC ?= cc
HOST_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11

.PHONY: all modules tools unit test-modules compat install deps check check-full demo \
	lint bench clean help

all: modules tools unit test-modules

help:
	@sed -n '3,16p' Makefile | sed 's/^# \{0,1\}//'

kdir-check:
	@test -n "$(KVER)" -a -d "$(KDIR)" || { \
		echo "No kernel build tree (KDIR=$(KDIR)); run 'make deps'" >&2; exit 1; }

compat: kdir-check
	@tools/bench/compat-probe.sh $(KDIR) dm-slicepool/compat-probes \
		dm-slicepool/compat-autoconf.h

# '+': the kernel's make gets the jobserver (a recipe that names $(MAKE)
# only through KMAKE would run it at -j1).
modules: compat
	+$(KMAKE) modules

# Test-only modules (the bench's own self-test); never installed.
test-modules: kdir-check
	+$(KMAKE_TM) modules

tools:
	$(MAKE) -C tools/slicepool

# Host unit tests of the pure C code (placement), built here, run by check.
unit: build/placement_test build/copyidx_test build/fence_test build/crashsim

# $(call unit_test,DIR,BINARY,UNITS[,PREREQUISITES[,FLAGS]]): build/BINARY
# from selftests/DIR/BINARY.c and dm-slicepool/UNIT.c for each UNIT of
# UNITS (with the first one's .h), with more prerequisites and compiler
# flags if given.
define unit_test
build/$(2): selftests/$(1)/$(2).c $(patsubst %,dm-slicepool/%.c,$(3)) \
		dm-slicepool/$(firstword $(3)).h $(4) selftests/lib/ktap-unit.h
	@mkdir -p build
	$$(HOSTCC) $$(HOST_CFLAGS) $$(strip -I dm-slicepool $(5) -I selftests/lib) -o $$@ \
		selftests/$(1)/$(2).c $(patsubst %,dm-slicepool/%.c,$(3))
endef

$(eval $(call unit_test,placement,placement_test,placement))
$(eval $(call unit_test,fence,fence_test,fence,dm-slicepool/sp-format.h))
# The pool metadata v3 library (dm-slicepool/md3.c and md3-*.c, listed in
# md3.mk as MD3_OBJS) under the crash simulator; the mutants are compiled
# in but only enabled by the test.
include dm-slicepool/md3.mk
$(eval $(call unit_test,crashsim,crashsim,$(MD3_OBJS:.o=), \
	$(patsubst %,dm-slicepool/%,$(MD3_HDRS)) dm-slicepool/md3.mk))
$(eval $(call unit_test,copyidx,copyidx_test,copyidx,$(wildcard selftests/copyidx/*.h), \
	-I selftests/copyidx))

install: modules tools
	$(KMAKE) INSTALL_MOD_DIR=updates INSTALL_MOD_PATH=$(DESTDIR) modules_install
	test -n "$(DESTDIR)" || depmod -a $(KVER)
	$(MAKE) -C tools/slicepool install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

deps:
	tools/bench/install-deps.sh

check:
	tools/bench/install-deps.sh --check >/dev/null || tools/bench/install-deps.sh
	selftests/run

check-full:
	tools/bench/install-deps.sh --check >/dev/null || tools/bench/install-deps.sh
	selftests/run --full

lint:
	tools/bench/install-deps.sh --check >/dev/null || tools/bench/install-deps.sh
	selftests/run -t lint

demo:
	tools/bench/install-deps.sh --check >/dev/null || tools/bench/install-deps.sh
	$(MAKE) all
	selftests/run --no-build --demo tools/demo.sh
	selftests/run --no-build --demo2 tools/demo-remote.sh

bench:
	tools/bench/install-deps.sh --check >/dev/null || tools/bench/install-deps.sh
	$(MAKE) all
	tools/bench/benchmarks.sh

clean:
	-$(KMAKE) clean
	-$(KMAKE_TM) clean
	-$(MAKE) -C tools/slicepool clean
	rm -rf build build.log dm-slicepool/compat-autoconf.h

# slicepool-agent (nvmet-remote-ns/agent): lends and borrows pool space over
# NVMe/TCP; built with the tools.  Needs libssl-dev and libdevmapper-dev.
.PHONY: agent install-agent clean-agent
tools: agent

agent:
	$(MAKE) -C nvmet-remote-ns/agent

install-agent: agent
	$(MAKE) -C nvmet-remote-ns/agent install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)

clean: clean-agent
clean-agent:
	-$(MAKE) -C nvmet-remote-ns/agent clean
	-$(MAKE) -C tools/lib clean

# Host unit tests of the agent (selftests/remote), linked with its sources
# and libspu.  The agent's sources are compiled once, into build/remote/obj,
# and each test links those objects (not 12 compiles of all of them).
SPA_SRCS := $(filter-out nvmet-remote-ns/agent/main.c,$(wildcard nvmet-remote-ns/agent/*.c))
SPA_OBJS := $(SPA_SRCS:nvmet-remote-ns/agent/%.c=build/remote/obj/%.o)
SPA_TESTS := codec auth quota config server reconcile health resize release identity limits member tunnel demand revoke reload dhchap
SPA_CFLAGS := $(HOST_CFLAGS) -Wno-format-truncation -D_GNU_SOURCE -pthread \
	-I nvmet-remote-ns/agent -I tools/lib -I selftests/lib
SPA_HDRS := nvmet-remote-ns/agent/agent.h tools/lib/spa-state.h tools/lib/spu.h
unit: $(SPA_TESTS:%=build/remote/%_test)

# Built once, before the tool and the agent: their makefiles each run
# make -C tools/lib, which then finds it up to date (two of them compiling
# the same objects at once under -j would race).
tools agent: tools/lib/libspu.a
tools/lib/libspu.a: $(wildcard tools/lib/*.c tools/lib/*.h) \
		$(patsubst %.o,dm-slicepool/%.c,$(MD3_OBJS)) \
		$(patsubst %,dm-slicepool/%,$(MD3_HDRS))
	$(MAKE) -C tools/lib

$(SPA_OBJS): build/remote/obj/%.o: nvmet-remote-ns/agent/%.c $(SPA_HDRS)
	@mkdir -p build/remote/obj
	$(HOSTCC) $(SPA_CFLAGS) -c -o $@ $<

build/remote/%_test: selftests/remote/%_test.c $(SPA_OBJS) tools/lib/libspu.a \
		$(SPA_HDRS) selftests/remote/remote-test.h selftests/lib/ktap-unit.h
	@mkdir -p build/remote
	$(HOSTCC) $(SPA_CFLAGS) -o $@ $< $(SPA_OBJS) \
		tools/lib/libspu.a -lcrypto -ldevmapper -pthread
