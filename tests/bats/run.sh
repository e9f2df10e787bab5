#!/bin/bash
# Runs the bats suite (TAP) and ends with "<name>: N passed, N failed".
# Usage: tests/bats/run.sh NAME [bats args: files or dirs]
set -u
name=$1
shift
log=$(mktemp)
bats --tap "$@" | tee "$log"
rc=${PIPESTATUS[0]}
p=$(grep -c '^ok ' "$log")
f=$(grep -c '^not ok ' "$log")
rm -f "$log"
echo "$name: $p passed, $f failed"
exit "$rc"
