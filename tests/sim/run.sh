#!/bin/bash
# `make test-sim`: clean seeds must all pass; each planted bug must be found
# within a bounded number of seeds (and the same seeds pass without it, which
# the clean run covers since it runs a superset of them).
set -u
sim=$1
seeds=${SIM_SEEDS:-2000}
bug_seeds=${SIM_BUG_SEEDS:-400}
passed=0 failed=0
if "$sim" --seeds "$seeds" --jobs 2; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
for bug in 1 2 3 4; do
	if "$sim" --bug "$bug" --seeds "$bug_seeds" --jobs 2 --expect-find | tail -n 3; then
		passed=$((passed + 1))
	else
		echo "planted bug $bug was not found in $bug_seeds seeds"
		failed=$((failed + 1))
	fi
done
echo "simulator: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
