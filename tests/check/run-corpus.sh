#!/bin/bash
# run-corpus.sh — raftkv-check against every history with a known verdict:
# the shared published corpus (../shared/histories/manifest.tsv relative to
# the repo root, or $RAFTKV_SHARED/histories) and our own tricky cases
# (tests/check/cases/manifest.tsv). Columns: file, expected (ok | bad | error),
# anything else. One line per mismatch, then "N passed, N failed".
#   RAFTKV_CHECK=path  the checker binary (default bin/raftkv-check)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${RAFTKV_SHARED:-$root/../shared}
check=${RAFTKV_CHECK:-$root/bin/raftkv-check}
timeout=${CHECK_TIMEOUT:-60}

if [ ! -x "$check" ]; then
	echo "run-corpus: no checker at $check (make bin/raftkv-check)" >&2
	echo "checker: 0 passed, 1 failed"
	exit 1
fi

passed=0
failed=0

# run_manifest DIR MANIFEST
run_manifest() {
	local dir=$1 manifest=$2 file expected rest want got
	while IFS=$'\t' read -r file expected rest; do
		case "$file" in ''|'#'*|file) continue ;; esac
		case "$expected" in
		ok) want=0 ;; bad) want=1 ;; error) want=2 ;;
		*) echo "FAIL $manifest: unknown verdict '$expected' for $file"; failed=$((failed + 1)); continue ;;
		esac
		"$check" --quiet --timeout "$timeout" "$dir/$file" >/dev/null 2>&1
		got=$?
		if [ "$got" = "$want" ]; then
			passed=$((passed + 1))
		else
			echo "FAIL $dir/$file: expected $expected (exit $want), got exit $got"
			failed=$((failed + 1))
		fi
	done <"$manifest"
}

if [ -f "$shared/histories/manifest.tsv" ]; then
	run_manifest "$shared/histories" "$shared/histories/manifest.tsv"
else
	echo "FAIL shared corpus not found at $shared/histories (set RAFTKV_SHARED)"
	failed=$((failed + 1))
fi
run_manifest "$here/cases" "$here/cases/manifest.tsv"

echo "checker: $passed passed, $failed failed"
[ "$failed" = 0 ]
