#!/bin/bash
# `make test-tsan`: the unit tests and a short simulator run built with
# ThreadSanitizer (make SAN=thread). A data race makes the binary fail
# (TSan's exit code), so it counts as a failed test. Closing line:
# "tsan: N passed, N failed".
#
# Neither the unit tests nor the simulator start the node's WAL worker
# (node/server/server_wal.c, a libuv threadpool job): with TSAN_BATS=1 two
# bats files (cluster basics and workloads; faults, with disk faults changed
# while writes run) also run against TSan-built nodes, whose reports go to
# files; any report fails the run.
set -u
cd "$(dirname "$0")/.."
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0 exitcode=66 second_deadlock_stack=1}"
passed=0 failed=0
log=$(mktemp)
tests/run-unit.sh build/tsan/tests tsan 2>&1 | tee "$log"
line=$(grep -E '^unit-tsan: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed/\1/p')
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-1}))
seeds=${TSAN_SIM_SEEDS:-100}
if build/tsan/raftkv-sim --seeds "$seeds" --jobs 2 >"$log" 2>&1; then
	passed=$((passed + 1))
	echo "ok   simulator: $seeds seeds (tsan)"
else
	failed=$((failed + 1))
	echo "---- simulator FAILED under tsan ----"
	tail -n 60 "$log"
fi
if [ -n "${TSAN_BATS:-}" ]; then
	reports=$(mktemp -d)
	if TSAN_OPTIONS="$TSAN_OPTIONS log_path=$reports/report" RAFTKV_BIN=build/tsan/bin \
		flock /tmp/raftkv-cluster.lock tests/bats/run.sh tsan-bats \
		tests/bats/10-cluster.bats tests/bats/20-faults.bats >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "ok   bats against TSan-built nodes: $(grep -c '^ok ' "$log") tests"
	else
		failed=$((failed + 1))
		echo "---- bats against TSan-built nodes FAILED ----"
		tail -n 30 "$log"
	fi
	if compgen -G "$reports/report*" >/dev/null; then
		failed=$((failed + 1))
		echo "---- ThreadSanitizer reports from the nodes ----"
		head -n 80 "$reports"/report*
	else
		passed=$((passed + 1))
		echo "ok   no ThreadSanitizer report from any node"
	fi
	rm -rf "$reports"
fi
rm -f "$log"
echo "tsan: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
