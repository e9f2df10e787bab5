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
echo "fuzz-replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
