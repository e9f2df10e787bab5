#!/bin/bash
# Runs every unit-test binary in DIR (cmocka), optionally under valgrind.
# Prints each binary's cmocka summary and a closing "N passed, N failed" line
# counting test cases; exits non-zero if any test or valgrind check failed.
set -u
dir=$1
mode=${2:-plain}
passed=0 failed=0 bad_bins=()
shopt -s nullglob
# one binary per source file, so a stale binary of a removed test never runs
bins=()
for src in "$(dirname "$0")"/unit/test_*.c; do
	bins+=("$dir/$(basename "$src" .c)")
done
if [ ${#bins[@]} -eq 0 ]; then
	echo "no unit tests found in $dir" >&2
	exit 1
fi
for t in "${bins[@]}"; do
	if [ ! -x "$t" ]; then
		echo "---- $(basename "$t") was not built ----"
		failed=$((failed + 1))
		bad_bins+=("$(basename "$t")")
		continue
	fi
	log=$(mktemp)
	if [ "$mode" = valgrind ]; then
		valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
			"$t" >"$log" 2>&1
	else
		"$t" >"$log" 2>&1
	fi
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ $rc -ne 0 ]; then
		[ "$f" -eq 0 ] && failed=$((failed + 1))
		bad_bins+=("$(basename "$t")")
		echo "---- $(basename "$t") FAILED (exit $rc, $mode) ----"
		tail -n 60 "$log"
	else
		echo "ok   $(basename "$t"): $p passed ($mode)"
	fi
	rm -f "$log"
done
echo "unit-$mode: $passed passed, $failed failed"
[ ${#bad_bins[@]} -eq 0 ]
