#!/bin/bash
# `make test-sim`: clean seeds must all pass; each planted bug must be found
# within a bounded number of seeds (and the same seeds pass without it, which
# the clean run covers since it runs a superset of them).
set -u
sim=$1
seeds=${SIM_SEEDS:-3000}
bug_seeds=${SIM_BUG_SEEDS:-1500}
passed=0 failed=0
if "$sim" --seeds "$seeds" --jobs 2; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# Bugs 1-6 are the core's (node/raft/planted_bugs.h), 7-12 the runtime's
# (node/runtime/rt_planted.h), which the simulator runs as the node does; 10
# is the old wall-clock boot nonce, planted in the simulator's node start.
# Bug 2 (commit an earlier-term entry by counting: the paper's Figure 8) needs
# partial replication and a chain of leader changes; the seeds with the
# "buggify" fault profile (sim_run.c) reach it. Bug 5 (a follower's log
# trusted at its word) needs a disk whose fsync lies and a crash that loses
# what it acknowledged: the seeds with lying disks (sim_node.c) reach it.
# --expect-find stops at the first seed that finds the bug.
# 30-31 are the runtime's snapshot bugs (rt_planted.h): a restart from a
# snapshot without its dedup record, and a WAL compacted up to the snapshot
# itself (a damaged snapshot file then stops a restart).
for bug in 1 2 3 4 5 6 7 8 9 10 11 12 30 31; do
	if "$sim" --bug "$bug" --seeds "$bug_seeds" --jobs 2 --expect-find | tail -n 3; then
		passed=$((passed + 1))
	else
		echo "planted bug $bug was not found in $bug_seeds seeds"
		failed=$((failed + 1))
	fi
done
echo "simulator: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
