#!/bin/bash
# `make test`: every suite in order, each bounded in time. A suite's own
# closing line is "<suite>: N passed, N failed"; this script adds them up and
# ends with the total, exiting non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
total_p=0 total_f=0 failed_suites=()
start=$(date +%s)

# run_suite NAME TIMEOUT_S COMMAND... — runs one suite, tallies its closing line.
run_suite() {
	local name=$1 limit=$2
	shift 2
	echo "==== $name ===="
	local log
	log=$(mktemp)
	timeout -k 10 "$limit" "$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local line p f
	line=$(grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		[ "$rc" -eq 124 ] && echo "$name: timed out after ${limit}s"
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	[ "$rc" -ne 0 ] && failed_suites+=("$name")
	rm -f "$log"
}

make -s all || { echo "build failed"; echo "total: 0 passed, 1 failed"; exit 1; }

run_suite unit-asan     600 make -s test-unit
run_suite unit-valgrind 900 make -s test-valgrind
run_suite checker       120 make -s test-check
run_suite jepsen-static 180 make -s test-jepsen-static
run_suite simulator     480 make -s test-sim
run_suite interaction   180 make -s test-interaction
run_suite fuzz-replay   240 make -s test-fuzz
run_suite bats-local   1200 make -s test-bats
# docker: image build, the bats suite on compose (~5 min), the README in a bare container (~6 min)
run_suite docker       1500 make -s test-docker

echo "==== summary ($(( $(date +%s) - start ))s) ===="
[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "total: $total_p passed, $total_f failed"
[ ${#failed_suites[@]} -eq 0 ]
