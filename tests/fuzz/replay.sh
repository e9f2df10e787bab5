#!/bin/bash
# `make test-fuzz`: replays tests/fuzz/corpus/<target> and tests/fuzz/crashes/<target>
# through each replay binary in DIR (built with ASan+UBSan). Ends with
# "fuzz-replay: N passed, N failed", counting inputs (a target that crashes
# counts as one failure and prints its output).
set -u
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
for bin in "$dir"/replay_*; do
	[ -x "$bin" ] || continue
	t=${bin##*/replay_}
	args=()
	for d in "$here/corpus/$t" "$here/crashes/$t"; do [ -d "$d" ] && args+=("$d"); done
	if out=$(timeout 120 "$bin" "${args[@]}" 2>&1); then
		n=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) inputs$/\1/p' | tail -n 1)
		echo "ok $t: ${n:-0} inputs"
		pass=$((pass + ${n:-0}))
	else
		echo "not ok $t"
		printf '%s\n' "$out" | tail -n 40
		fail=$((fail + 1))
	fi
done
# The api target hosts a node in its own process. A SIGTERM or SIGINT meant
# for the fuzzer (the time limit of tests/fuzz/run.sh, Ctrl-C) must not stop
# that node and so make the next check fail: the input running then would be
# saved as a crash that passes alone (what stopped fuzz_api once, c44ae07).
if [ -x "$dir/replay_api" ]; then
	# Enough copies of the corpus that the replay is still running when the
	# signal comes on a fast, quiet machine (200 copies ended in under 2 s).
	args=()
	for ((i = 0; i < 20000; i++)); do args+=("$here/corpus/api"); done
	"$dir/replay_api" "${args[@]}" >"$dir/api-signal.log" 2>&1 &
	p=$!
	sleep 2
	kill -TERM "$p" 2>/dev/null
	wait "$p"
	rc=$?
	if [ "$rc" -eq 143 ] && ! grep -q "^fuzz_api: " "$dir/api-signal.log"; then
		echo "ok api: a SIGTERM ends the run, the node does not take it"
		pass=$((pass + 1))
	else
		echo "not ok api: SIGTERM during a run: exit $rc"
		grep -v "^raftkv\[" "$dir/api-signal.log" | tail -n 5
		fail=$((fail + 1))
	fi
fi
# libFuzzer's -timeout watchdog sends SIGALRM every few seconds without
# SA_RESTART; a recv it interrupts must not read as a dead node (it stopped
# a `make fuzz` run once). The replay mimics it, far more often (failed before the retries).
if [ -x "$dir/replay_api" ]; then
	args=()
	for ((i = 0; i < 20; i++)); do args+=("$here/corpus/api"); done
	if out=$(FUZZ_REPLAY_ALARM_US=200 timeout 120 "$dir/replay_api" "${args[@]}" 2>&1); then
		echo "ok api: $(printf '%s\n' "$out" | tail -n 1) under a SIGALRM every 200 us"
		pass=$((pass + 1))
	else
		echo "not ok api: under a SIGALRM every 200 us"
		printf '%s\n' "$out" | grep -v "^raftkv\[" | tail -n 5
		fail=$((fail + 1))
	fi
fi
echo "fuzz-replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
