#!/bin/bash
# `make fuzz`: runs each libFuzzer target in DIR for SECONDS (all targets, or
# the ones named). Seeds: tests/fuzz/corpus/<t> (read only); new inputs go to
# build/fuzz/corpus/<t>; a crash is saved as tests/fuzz/crashes/<t>/crash-*
# (check it in: make test replays it forever after). Ends with one line per
# target and "fuzz: N passed, N failed".
set -u
dir=$1 secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for b in "$dir"/fuzz_*; do targets+=("${b##*/fuzz_}"); done
fi
pass=0 fail=0
for t in "${targets[@]}"; do
	work=$root/build/fuzz/corpus/$t
	mkdir -p "$work" "$here/crashes/$t"
	log=$root/build/fuzz/$t.log
	# -max_len: bodies and frames bigger than this find nothing new.
	timeout -k 10 $((secs + 60)) "$dir/fuzz_$t" -max_total_time="$secs" -max_len=8192 \
		-timeout=20 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$here/crashes/$t/" "$work" "$here/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "ok $t: ${secs}s, ${execs:-?} execs, ${cov:-cov: ?}"
		pass=$((pass + 1))
	else
		echo "not ok $t: exit $rc, see $log and tests/fuzz/crashes/$t/"
		grep -m 5 -E 'ERROR|SUMMARY|check failed' "$log"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
