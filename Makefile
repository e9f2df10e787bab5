# raftkv — build, run, test, bench.
#
#   make            every program into bin/
#   make run        a local 3-node cluster on loopback (Ctrl-C stops it)
#   make test       unit tests (ASan+UBSan, valgrind), checker corpus, simulator,
#                   bats integration (local processes, then Docker when an engine answers)
#   make bench      throughput/latency benchmark on a local 3-node cluster
#   make bench-failover  kill -9 of the leader -> next acknowledged write, 20 tries (part 4 of bench)
#   make flood      issue 15.4's figure: 200 clients x 1 MiB writes, a small writer beside them
#   make bench-snapshot  cost of a snapshot of 1M keys to a serving node (inline, copy, fork),
#                        then in a 3-node cluster: RSS and WAL size over 2M writes, a 1M-key
#                        snapshot's duration and the p99 write latency during it
#   make bench-install   a follower receives and installs a 1M-key snapshot under writes
#   make SAN=1      the same programs built with ASan+UBSan into build/san/bin
#   make SAN=thread the same with ThreadSanitizer into build/tsan/bin
#   make test-tsan  unit tests and a short simulator run under ThreadSanitizer
#   make V=1 ...    print the full compiler and linker commands (default: "  CC  file")
#   make JOBS=1 ... build one file at a time (default: as many as cores)
#
# On a bare Debian, `sh .ci/install-deps` first (make itself is one of the packages).
# Every target that builds runs `deps` (.ci/install-deps) before anything else.
#
# Sources are found by directory, so adding a .c file needs no edit here:
#   library (linked into every program): node/{raft,wal,net,http,kv,snapshot,runtime,api,server,common}/*.c faults/*.c
#   node main: node/main.c            agent: faults/agent/*.c     ctl: node/cli/*.c
#   workload: tests/workload/*.c      checker: tests/check/*.c (main in main.c)
#   simulator: tests/sim/*.c          unit tests: tests/unit/test_*.c, one binary each

CC      ?= gcc
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   := build/san
BIN     := build/san/bin
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
else ifeq ($(SAN),thread)
# ThreadSanitizer: the WAL worker (libuv threadpool) and the loop share state.
BUILD   := build/tsan
BIN     := build/tsan/bin
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
LDSAN   := -fsanitize=thread
else
BUILD   := build/rel
BIN     := bin
OPT     := -O2 -g
LDSAN   :=
endif
# FUZZ=1: everything built by clang with libFuzzer's coverage, for `make fuzz`.
ifeq ($(FUZZ),1)
CC      := clang
BUILD   := build/fuzz
BIN     := build/fuzz/bin
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=fuzzer,address,undefined
endif

# Quiet by default, one line per step ("  CC      node/raft/raft.c"); V=1 prints the
# full commands. Compiler warnings and errors print in full either way; make -s
# prints nothing but them.
# $(call say,CC,node/raft/raft.c) goes in front of a command.
V ?= 0
ifeq ($(V),1)
say   =
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
say   = @
else
say   = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif
MAKEFLAGS += --no-print-directory
# The second make (see `all`) builds on every core unless the command line gave -j
# (make 4.3 shows -j in MAKEFLAGS only inside recipes, hence a recursive variable).
# JOBS=1 builds one file at a time.
JOBS    ?= $(shell nproc 2>/dev/null || echo 1)
SUBJOBS  = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS))

# pkg-config runs when a recipe first needs its answer, not when make reads this
# file: on a fresh machine the libraries appear only once `deps` has run, and the
# targets that build run `deps` first and then build in a second make (see `all`).
# A library still missing then is a clear error, not a wall of undefined references.
PKGS    := libuv libcjson libcurl libcrypto
pkgconf  = $(if $(filter !missing,$(1)),$(error pkg-config found no $(2); run: sh .ci/install-deps),$(1))
pkg      = $(call pkgconf,$(shell pkg-config $(1) $(2) 2>/dev/null || echo '!missing'),$(2))
# Each evaluated once, on first use (the "lazy once" idiom: the variable redefines itself).
PKG_CFLAGS = $(eval PKG_CFLAGS := $(call pkg,--cflags,$(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(call pkg,--libs,$(PKGS)))$(PKG_LIBS)
CMOCKA     = $(eval CMOCKA := $(call pkg,--libs,cmocka))$(CMOCKA)
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP $(OPT) $(PKG_CFLAGS)
LDLIBS   = $(PKG_LIBS) -lhttp_parser -lm -lpthread
LDFLAGS += $(LDSAN)
SANTAG  := $(if $(filter 1,$(SAN)),[san] ,$(if $(filter thread,$(SAN)),[tsan] ))

COMMON_SRC := $(wildcard node/common/*.c)
RAFT_SRC   := $(wildcard node/raft/*.c)
WAL_SRC    := $(wildcard node/wal/*.c)
HTTP_SRC   := $(wildcard node/http/*.c)
NET_SRC    := $(wildcard node/net/*.c)
NODE_SRC   := $(wildcard node/api/*.c node/server/*.c)
RT_SRC     := $(wildcard node/runtime/*.c node/kv/*.c node/snapshot/*.c)
FAULTS_SRC := $(wildcard faults/*.c)
CHECK_SRC  := $(filter-out tests/check/main.c,$(wildcard tests/check/*.c))
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

# One archive per module, so a test or program links only what it uses (and a
# half-written module elsewhere in the tree does not stop anyone's build).
LIBCOMMON := $(BUILD)/libcommon.a
LIBRAFT   := $(BUILD)/libraft.a
LIBWAL    := $(BUILD)/libwal.a
LIBHTTP   := $(BUILD)/libhttp.a
LIBNET    := $(BUILD)/libnet.a
LIBFAULTS := $(BUILD)/libfaults.a
LIBNODE   := $(BUILD)/libnode.a
LIBRT     := $(BUILD)/libruntime.a
LIBCHECK  := $(BUILD)/libcheck.a
ALL_LIBS  := $(LIBNODE) $(LIBRT) $(LIBFAULTS) $(LIBNET) $(LIBHTTP) $(LIBWAL) $(LIBRAFT) $(LIBCHECK) $(LIBCOMMON)

PROGRAMS  := $(BIN)/raftkv $(BIN)/raftkv-agent $(BIN)/raftkv-ctl $(BIN)/raftkv-workload $(BIN)/raftkv-check
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
SIM_BIN   := $(BUILD)/raftkv-sim

.PHONY: all deps run test test-unit test-valgrind test-check test-sim test-bats test-docker \
        test-jepsen-static jepsen jepsen-local jepsen-docker \
        test-interaction interaction-bin test-tsan bench bench-failover bench-snapshot bench-install snapbench-bin sim sim-bin unit-bins all-programs tools \
        test-fuzz replay-bins fuzz fuzz-bins flood docker docker-up docker-down clean
# Targets that build run `deps` first, then the build in a second make, so every
# make target works on its first run on a fresh machine (see PKG_CFLAGS).
all: deps
	@$(MAKE) $(SUBJOBS) all-programs

# A missing library: installed with apt-get when root, otherwise one line to run.
deps:
	@.ci/install-deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$(SANTAG)$<)$(CC) $(CFLAGS) -c $< -o $@

define archive
$(1): $$(call obj,$(2))
	@mkdir -p $$(dir $$@)
	$$(call say,AR,$$@)rm -f $$@ && ar rcs $$@ $$^
endef
$(eval $(call archive,$(LIBCOMMON),$(COMMON_SRC)))
$(eval $(call archive,$(LIBRAFT),$(RAFT_SRC)))
$(eval $(call archive,$(LIBWAL),$(WAL_SRC)))
$(eval $(call archive,$(LIBHTTP),$(HTTP_SRC)))
$(eval $(call archive,$(LIBNET),$(NET_SRC)))
$(eval $(call archive,$(LIBFAULTS),$(FAULTS_SRC)))
$(eval $(call archive,$(LIBNODE),$(NODE_SRC)))
$(eval $(call archive,$(LIBRT),$(RT_SRC)))
$(eval $(call archive,$(LIBCHECK),$(CHECK_SRC)))

define LINK
@mkdir -p $(dir $@)
$(call say,LD,$@)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
endef
$(BIN)/raftkv: $(call obj,node/main.c) $(LIBNODE) $(LIBRT) $(LIBFAULTS) $(LIBNET) $(LIBHTTP) $(LIBWAL) $(LIBRAFT) $(LIBCOMMON)
	$(LINK)
$(BIN)/raftkv-agent: $(call obj,$(wildcard faults/agent/*.c)) $(LIBHTTP) $(LIBCOMMON)
	$(LINK)
$(BIN)/raftkv-ctl: $(call obj,$(wildcard node/cli/*.c)) $(LIBCOMMON)
	$(LINK)
$(BIN)/raftkv-workload: $(call obj,$(wildcard tests/workload/*.c)) $(LIBCHECK) $(LIBCOMMON)
	$(LINK)
$(BIN)/raftkv-check: $(call obj,tests/check/main.c) $(LIBCHECK) $(LIBCOMMON)
	$(LINK)
# Test tools: a hostile peer for the bats suite.
TOOLS     := $(BIN)/raftkv-peer-send
$(BIN)/raftkv-peer-send: $(call obj,tests/tools/peer_send.c) $(LIBNET) $(LIBRAFT) $(LIBCOMMON)
	$(LINK)
# The simulator links a second build of the core and of the runtime with the
# planted bugs compiled in (raft_config.planted_bug, rt_options.planted_bug);
# production builds contain none.
LIBRAFTBUGS := $(BUILD)/libraft-bugs.a
$(BUILD)/obj-bugs/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,[bugs] $<)$(CC) $(CFLAGS) -DRAFT_PLANTED_BUGS -DWAL_PLANTED_BUGS -c $< -o $@
$(LIBRAFTBUGS): $(patsubst %.c,$(BUILD)/obj-bugs/%.o,$(RAFT_SRC))
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^
LIBRTBUGS := $(BUILD)/libruntime-bugs.a
$(LIBRTBUGS): $(patsubst %.c,$(BUILD)/obj-bugs/%.o,$(RT_SRC))
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^
# ... and of the WAL (wal_planted_bug, node/wal/wal_int.h: the simulator's
# bugs 41 and 42).
LIBWALBUGS := $(BUILD)/libwal-bugs.a
$(LIBWALBUGS): $(patsubst %.c,$(BUILD)/obj-bugs/%.o,$(WAL_SRC))
	@mkdir -p $(dir $@)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^
# Its fsyncs go through tests/sim/sim_disk.c, the page cache of its power cuts.
$(SIM_BIN): LDFLAGS += -Wl,--wrap=fdatasync -Wl,--wrap=fsync
$(SIM_BIN): $(patsubst %.c,$(BUILD)/obj-bugs/%.o,$(wildcard tests/sim/*.c)) $(LIBRTBUGS) $(LIBFAULTS) $(LIBNET) $(LIBWALBUGS) $(LIBRAFTBUGS) $(LIBCHECK) $(LIBCOMMON)
	$(LINK)
# The interaction-script runner drives the plain core (tests/interaction).
INTERACTION_BIN := $(BUILD)/raftkv-interaction
$(INTERACTION_BIN): $(call obj,$(wildcard tests/interaction/*.c)) $(LIBRT) $(LIBNET) $(LIBRAFT) $(LIBCOMMON)
	$(LINK)

# Unit tests: tests/unit/test_<module>_*.c links that module (and what it
# needs); any other test_*.c links everything.
define TLINK
@mkdir -p $(dir $@)
$(call say,LD,$@)$(CC) $(LDFLAGS) $^ $(LDLIBS) $(CMOCKA) -o $@
endef
# test_raft_bugs exercises the planted bugs: it links the core built with them.
$(BUILD)/tests/test_raft_bugs: $(call obj,tests/unit/test_raft_bugs.c) $(LIBRAFTBUGS) $(LIBCOMMON)
	$(TLINK)
# test_raft_membership also runs its wipe scenario with planted bug 7.
$(BUILD)/tests/test_raft_membership: $(call obj,tests/unit/test_raft_membership.c) $(LIBRAFTBUGS) $(LIBCOMMON)
	$(TLINK)
$(BUILD)/tests/test_raft_%: $(call obj,tests/unit/test_raft_%.c) $(LIBRAFT) $(LIBCOMMON)
	$(TLINK)
$(BUILD)/tests/test_wal_%: $(call obj,tests/unit/test_wal_%.c) $(LIBWAL) $(LIBRAFT) $(LIBCOMMON)
	$(TLINK)
$(BUILD)/tests/test_check_%: $(call obj,tests/unit/test_check_%.c) $(LIBCHECK) $(LIBCOMMON)
	$(TLINK)
$(BUILD)/tests/test_http_%: $(call obj,tests/unit/test_http_%.c) $(LIBHTTP) $(LIBCOMMON)
	$(TLINK)
$(BUILD)/tests/test_net_%: $(call obj,tests/unit/test_net_%.c) $(LIBNET) $(LIBRAFT) $(LIBCOMMON)
	$(TLINK)
$(BUILD)/tests/test_faults_%: $(call obj,tests/unit/test_faults_%.c) $(LIBFAULTS) $(LIBCOMMON)
	$(TLINK)
# test_workload_*: the workload tool's objects, all but its main.
WORKLOAD_LIB := $(filter-out tests/workload/main.c,$(wildcard tests/workload/*.c))
$(BUILD)/tests/test_workload_%: $(call obj,tests/unit/test_workload_%.c) $(call obj,$(WORKLOAD_LIB)) $(LIBCHECK) $(LIBCOMMON)
	$(TLINK)
$(BUILD)/tests/test_%: $(call obj,tests/unit/test_%.c) $(ALL_LIBS)
	$(TLINK)

# Fuzz targets: tests/fuzz/fuzz_<name>.c, each linked with everything. With
# FUZZ=1 libFuzzer provides main; otherwise replay_main.c does (make test-fuzz).
FUZZ_NAMES  := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS   := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
REPLAY_BINS := $(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_NAMES))
$(BUILD)/fuzz/fuzz_%: $(call obj,tests/fuzz/fuzz_%.c) $(ALL_LIBS)
	$(LINK)
$(BUILD)/fuzz/replay_%: $(call obj,tests/fuzz/fuzz_%.c) $(call obj,tests/fuzz/replay_main.c) $(ALL_LIBS)
	$(LINK)

-include $(shell find build/rel build/san build/tsan build/fuzz -name '*.d' -type f 2>/dev/null)

# ---------------------------------------------------------------- running
run: all
	@tests/cluster.sh run

# ---------------------------------------------------------------- testing
# Every suite prints a closing line; the last line of `make test` is the total.
test: deps
	@tests/run-all.sh

test-unit: deps
	@$(MAKE) $(SUBJOBS) SAN=1 unit-bins
	@tests/run-unit.sh build/san/tests asan
unit-bins: $(UNIT_BINS)
	@:
test-valgrind: deps
	@$(MAKE) $(SUBJOBS) SAN=0 unit-bins
	@tests/run-unit.sh build/rel/tests valgrind
# Not part of `make test`: a third build of everything (see tests/run-tsan.sh).
# TSAN_BATS=1 also runs two bats files against TSan-built nodes: the only
# place the WAL worker thread runs (about 3.5 minutes, takes the cluster lock).
test-tsan: deps
	@$(MAKE) $(SUBJOBS) SAN=thread unit-bins sim-bin $(if $(TSAN_BATS),all-programs)
	@TSAN_BATS=$(TSAN_BATS) tests/run-tsan.sh
test-check: all
	@tests/check/run-corpus.sh
test-sim: deps
	@$(MAKE) $(SUBJOBS) SAN=0 sim-bin
	@tests/sim/run.sh $(SIM_BIN)
sim-bin: $(SIM_BIN)
	@:
# Interaction scripts (tests/interaction/README.md), under ASan+UBSan, then
# the release build under valgrind (which sees reads of uninitialised bytes).
# REWRITE=1 writes the actual output back into the scripts as the expected one.
test-interaction: deps
	@$(MAKE) $(SUBJOBS) SAN=1 interaction-bin
	@$(MAKE) $(SUBJOBS) SAN=0 interaction-bin
	@tests/interaction/run.sh build/san/raftkv-interaction $(if $(REWRITE),--rewrite,build/rel/raftkv-interaction)
interaction-bin: $(INTERACTION_BIN)
	@:
sim: deps
	@$(MAKE) $(SUBJOBS) SAN=0 sim-bin
	@if [ -n "$(SEED)" ]; then $(SIM_BIN) --seed $(SEED) --trace $(if $(BUG),--bug $(BUG)); \
	else $(SIM_BIN) --seeds $${SEEDS:-10000} --jobs 2 $(if $(BUG),--bug $(BUG)); fi
test-bats: all
	@$(MAKE) $(SUBJOBS) SAN=1 all-programs tools
	@RAFTKV_BIN=build/san/bin tests/bats/run.sh bats-local tests/bats
all-programs: $(PROGRAMS)
	@:
tools: $(TOOLS)
	@:
test-docker: all
	@tests/docker/run.sh
# The Clojure Jepsen test where Jepsen cannot run: every .clj read by Debian's
# clojure, the pure namespaces' clojure.test suites, the EDN export pinned.
test-jepsen-static: all
	@tests/jepsen-static.sh

# ---------------------------------------------------------------- Jepsen
# make jepsen ARGS="test --targets compose --workload register ..." (lein, or
# JEPSEN_CLASSPATH with $$JAVA_HOME's java); make jepsen-local ARGS=... runs it
# against a fresh local 5-node cluster; make jepsen-docker against the compose
# cluster. See jepsen/README.md. Local clusters: run under
# flock /tmp/raftkv-cluster.lock on shared machines.
# Each prints Jepsen's exit code as its last line (0 valid, 1 invalid, 2 unknown,
# other = could not run); make itself exits 2 on any failure, so for the code
# as an exit status run the script: jepsen/local.sh ARGS (run.sh, docker.sh).
jepsen:
	@jepsen/exit-line.sh jepsen/run.sh $(ARGS)
jepsen-local: all
	@jepsen/exit-line.sh jepsen/local.sh $(ARGS)
jepsen-docker:
	@jepsen/exit-line.sh jepsen/docker.sh $(ARGS)

# make test-fuzz: every checked-in corpus file and saved crash, replayed under
# ASan+UBSan by gcc builds (seconds; no clang needed).
test-fuzz: deps
	@$(MAKE) $(SUBJOBS) SAN=1 replay-bins
	@tests/fuzz/replay.sh build/san/fuzz
replay-bins: $(REPLAY_BINS)
	@:
# make fuzz: each target under libFuzzer for FUZZ_SECONDS (default 60); new
# inputs collect in build/fuzz/corpus, crashes land in tests/fuzz/crashes.
FUZZ_SECONDS ?= 60
fuzz: deps
	@.ci/install-deps clang
	@$(MAKE) $(SUBJOBS) FUZZ=1 fuzz-bins
	@tests/fuzz/run.sh build/fuzz/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-bins: $(FUZZ_BINS)
	@:

# The bench's own packages (not make test's): etcd to compare with, wrk to drive both.
# Without them (not root, no network) the bench says so and measures raftkv alone.
bench: deps
	@.ci/install-deps etcd-server wrk || echo "bench: etcd-server/wrk not installed; raftkv only" >&2
	@$(MAKE) all-programs
	@tests/bench.sh

# Leader kill -> next acknowledged write (figures; part 4 of `make bench`).
bench-failover: all
	@d=$$(mktemp -d "$${TMPDIR:-/tmp}/raftkv-failover.XXXXXX") && \
	  tests/bench/failover.sh "$$d" $${BENCH_PORT_BASE:-2620} $${BENCH_FAILOVER_TRIES:-20}; rc=$$?; rm -rf "$$d"; exit $$rc

# Issue 15.4's figure: 200 clients x 1 MiB writes for 30 s on a local cluster,
# a small writer beside them (tests/flood.sh; FLOOD_ARGS="CLIENTS SECONDS BYTES").
flood: deps
	@.ci/install-deps wrk || { echo "flood: needs wrk" >&2; exit 1; }
	@$(MAKE) all-programs
	@tests/flood.sh $(FLOOD_ARGS)

# Snapshot cost while serving: inline vs background copy vs fork (figures).
SNAPBENCH := $(BUILD)/raftkv-snapbench
$(SNAPBENCH): $(call obj,tests/bench/snapshot_bench.c) $(LIBRT) $(LIBNET) $(LIBRAFT) $(LIBCOMMON)
	$(LINK)
bench-snapshot: deps
	@$(MAKE) snapbench-bin
	@d=$$(mktemp -d "$${TMPDIR:-/tmp}/raftkv-snapbench.XXXXXX") && \
	  $(SNAPBENCH) "$$d/snapshots" $(SNAPBENCH_KEYS) ; rc=$$?; rm -rf "$$d"; [ $$rc -eq 0 ] || exit $$rc
	@.ci/install-deps python3 || echo "bench-snapshot: python3 not installed" >&2
	@$(MAKE) all-programs
	@tests/bench/snapshot_node.sh
snapbench-bin: $(SNAPBENCH)
	@:

# InstallSnapshot of 1M keys to a follower while the cluster serves writes (a figure).
bench-install: deps
	@$(MAKE) all-programs
	@tests/bench/install.sh

# ---------------------------------------------------------------- docker
docker:
	@docker/build.sh
docker-up: docker
	@docker/up.sh
docker-down:
	@docker/down.sh

clean:
	rm -rf build bin
