#!/bin/bash
# `make test-interaction`: runs every script in testdata/ (README.md), then
# checks that the runner itself fails, with a diff, on a script whose
# expectation is wrong.
#   run.sh BIN [VG_BIN]   VG_BIN (a build without sanitizers) also runs the
#                         scripts under valgrind
#   run.sh BIN --rewrite  rewrites the expectations
set -u
bin=$1
shift
dir=$(dirname "$0")/testdata
if [ "${1:-}" = --rewrite ]; then
	exec "$bin" --rewrite "$dir"/*.txt
fi
vg_bin=${1:-}
log=$(mktemp)
"$bin" "$dir"/*.txt >"$log" 2>&1
rc=$?
grep -v '^interaction: ' "$log" # this script prints the closing line
line=$(tail -n 1 "$log")
p=$(echo "$line" | sed -n 's/^interaction: \([0-9]*\) passed.*/\1/p')
f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
p=${p:-0} f=${f:-1}
# The runner must notice a wrong expectation: change one expected line.
tmp=$(mktemp --suffix=.txt)
first=$(ls "$dir"/*.txt | head -n 1)
awk 'BEGIN{done=0} /^----$/ && !done {print; getline; print $0 " (wrong on purpose)"; done=1; next} {print}' \
	"$first" >"$tmp"
if "$bin" "$tmp" >"$log" 2>&1; then
	echo "FAIL the runner accepted a wrong expectation ($tmp from $first)"
	f=$((f + 1))
elif ! grep -q '^+' "$log" || ! grep -q 'wrong on purpose' "$log"; then
	echo "FAIL the runner rejected a wrong expectation without a diff:"
	cat "$log"
	f=$((f + 1))
else
	echo "ok   a wrong expectation fails with a diff"
	p=$((p + 1))
fi
if [ -n "$vg_bin" ]; then
	if ! command -v valgrind >/dev/null; then
		echo "FAIL valgrind is not installed"
		f=$((f + 1))
	elif valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		"$vg_bin" "$dir"/*.txt >"$log" 2>&1; then
		echo "ok   the scripts under valgrind"
		p=$((p + 1))
	else
		echo "FAIL the scripts under valgrind:"
		grep -v "^interaction: " "$log" | tail -n 40
		f=$((f + 1))
	fi
fi
rm -f "$tmp" "$log"
echo "interaction: $p passed, $f failed"
[ "$rc" -eq 0 ] && [ "$f" -eq 0 ]
