#!/bin/bash
# `make test-sim`: clean seeds must all pass; each planted bug must be found
# within a bounded number of seeds (and the same seeds pass without it, which
# the clean run covers since it runs a superset of them).
set -u
sim=$1
seeds=${SIM_SEEDS:-2000}
bug_seeds=${SIM_BUG_SEEDS:-1500}
passed=0 failed=0
if "$sim" --seeds "$seeds" --jobs 2; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# Bug 2 (commit an earlier-term entry by counting: the paper's Figure 8) needs
# a chain of three leader changes with partial replication; the timed
# simulator reaches it too rarely to bound, so the step-driven chaos test of
# the core (tests/unit/test_raft_bugs.c) is what proves it is caught.
for bug in 1 3 4; do
	if "$sim" --bug "$bug" --seeds "$bug_seeds" --jobs 2 --expect-find | tail -n 3; then
		passed=$((passed + 1))
	else
		echo "planted bug $bug was not found in $bug_seeds seeds"
		failed=$((failed + 1))
	fi
done
echo "simulator: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
