#!/bin/bash
# perf.sh — the checker's speed targets, measured:
#   the whole shared corpus in under 3 s (checker time, one process per file)
#   a linearizable 100,000-operation history over 100 keys in under 5 s
# plus a hot single key (20 clients, mixed ops) and a refuted stale read.
# Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${RAFTKV_SHARED:-$root/../shared}
check=${RAFTKV_CHECK:-$root/bin/raftkv-check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

now() { date +%s.%N; }
# judge NAME SECONDS LIMIT
judge() {
	if awk -v t="$2" -v l="$3" 'BEGIN { exit !(t < l) }'; then
		echo "ok   $1: ${2}s (limit ${3}s)"
		passed=$((passed + 1))
	else
		echo "FAIL $1: ${2}s (limit ${3}s)"
		failed=$((failed + 1))
	fi
}

start=$(now)
while IFS=$'\t' read -r file _; do
	case "$file" in ''|file) continue ;; esac
	"$check" -q "$shared/histories/$file" >/dev/null 2>&1
done <"$shared/histories/manifest.tsv"
judge "shared corpus" "$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')" 3

"$here/gen-history.py" --ops 100000 --keys 100 --clients 50 --seed 1 >"$tmp/h.jsonl"
start=$(now)
"$check" -q "$tmp/h.jsonl"
rc=$?
t=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
if [ $rc -ne 0 ]; then echo "FAIL 100k ops: exit $rc"; failed=$((failed + 1)); else judge "100k ops / 100 keys" "$t" 5; fi

"$here/gen-history.py" --ops 20000 --keys 1 --clients 20 --seed 2 >"$tmp/hot.jsonl"
start=$(now)
"$check" -q --timeout 30 "$tmp/hot.jsonl"
rc=$?
t=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
if [ $rc -ne 0 ]; then echo "FAIL hot key: exit $rc"; failed=$((failed + 1)); else judge "20k ops / 1 key / 20 clients" "$t" 5; fi

# The same size with one injected stale read must be refuted, also quickly.
"$here/gen-history.py" --ops 100000 --keys 100 --clients 50 --seed 3 --info 0 --stale 1 2>/dev/null >"$tmp/stale.jsonl"
start=$(now)
"$check" -q --timeout 30 "$tmp/stale.jsonl" >/dev/null
rc=$?
t=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
if [ $rc -ne 1 ]; then echo "FAIL stale read: exit $rc, expected 1"; failed=$((failed + 1)); else judge "100k ops with a stale read refuted" "$t" 5; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
