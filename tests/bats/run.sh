#!/bin/bash
# Runs the bats suite (TAP) and ends with "<name>: N passed, N failed".
# Usage: tests/bats/run.sh NAME [bats args: files or dirs]
set -u
name=$1
shift
# helpers.bash gives each file the port base 21000 + 100 * ((cksum of its base
# name + a per-checkout shift) mod 80): two files must not share it.
seen=" "
for f in "$(dirname "$0")"/*.bats; do
	b=$(basename "$f")
	h=$(($(printf '%s' "$b" | cksum | cut -d' ' -f1) % 80))
	case $seen in *" $h:"*)
		echo "$name: $b has the same port range as another file (cksum mod 80 = $h): rename one" >&2
		echo "$name: 0 passed, 1 failed"
		exit 1 ;;
	esac
	seen+="$h:$b "
done
log=$(mktemp)
bats --tap "$@" | tee "$log"
rc=${PIPESTATUS[0]}
p=$(grep -c '^ok ' "$log")
f=$(grep -c '^not ok ' "$log")
rm -f "$log"
echo "$name: $p passed, $f failed"
exit "$rc"
