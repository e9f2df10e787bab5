#!/bin/bash
# `make bench`: a 3-node cluster on loopback (fsync on), 32 connections.
#
# Figures are reported as ratios against a baseline measured in the same run:
# stale reads, which go through the same HTTP stack, client and state machine
# but skip consensus entirely. "writes/s ÷ baseline" is then the share of the
# node's raw request rate that survives replication plus fsync, comparable
# across machines; the absolute figures are printed too.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${RAFTKV_BIN:-$ROOT/bin}
DUR=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-32}
BASE=${BENCH_PORT_BASE:-2620}
dir=$(mktemp -d "${TMPDIR:-/tmp}/raftkv-bench.XXXXXX")
out=$ROOT/build/bench
mkdir -p "$out"
cleanup() { RAFTKV_BIN=$BIN "$ROOT/tests/cluster.sh" stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT

RAFTKV_BIN=$BIN "$ROOT/tests/cluster.sh" start "$dir" 3 "$BASE" >/dev/null
NODES="http://127.0.0.1:$BASE,http://127.0.0.1:$((BASE + 1)),http://127.0.0.1:$((BASE + 2))"

run() { # NAME FLAGS...
	local name=$1
	shift
	"$BIN/raftkv-workload" --nodes "$NODES" --clients "$CLIENTS" --duration "$DUR" --no-final-reads \
		--quiet --summary "$out/$name.json" --plot "$out/$name.svg" --key-prefix "$name-" "$@" >/dev/null
}

echo "raftkv bench: 3 nodes, fsync on, $CLIENTS connections, ${DUR}s per run ($(nproc) cores)"
run baseline-stale-reads --mix read=100 --consistency stale
# write the keys once so the read runs read real values
run writes --mix write=100 --keys 100
run linearizable-reads --mix read=100 --consistency linearizable --keys 100
run log-reads --mix read=100 --consistency log --keys 100 --duration "$(( DUR / 2 > 0 ? DUR / 2 : 1 ))"

base=$(jq -r '.throughput_per_s' "$out/baseline-stale-reads.json")
printf '\n%-22s %12s %10s %10s %12s\n' run "ops/s" "p50 ms" "p99 ms" "÷ baseline"
for name in baseline-stale-reads writes linearizable-reads log-reads; do
	jq -r --arg n "$name" --argjson b "$base" \
		'[$n, .throughput_per_s, .latency_ms.all.p50, .latency_ms.all.p99, (.throughput_per_s / $b)] |
		 "\(.[0]) \(.[1]) \(.[2]) \(.[3]) \(.[4])"' "$out/$name.json" |
		awk '{ printf "%-22s %12.0f %10.2f %10.2f %12.3f\n", $1, $2, $3, $4, $5 }'
done
echo
echo "targets (issue 2): 30000 writes/s, 100000 linearizable reads/s on 2 cores"
echo "summaries and plots: $out/*.json, $out/*.svg"
