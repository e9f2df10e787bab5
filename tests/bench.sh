#!/bin/bash
# `make bench`: raftkv on a local 3-node cluster (fsync on), then raftkv beside
# etcd (3 members, fsync on) under one load generator, then CPU cost per op.
#
#   BENCH_QUICK=1     short run: 2 s per point, connections 1 32 512
#   BENCH_SECONDS=N   seconds per point (default 5; 2 when quick)
#   BENCH_CONNS="..." connection counts for the sweep (default 1 8 32 128 512)
#   BENCH_NO_ETCD=1   raftkv only
#   BENCH_NO_CG=1     skip part 3 (instructions per request under callgrind)
#   BENCH_NO_FAILOVER=1  skip part 4 (leader kill -> next write; BENCH_FAILOVER_TRIES=N, default 20)
#
# The machine this runs on is usually shared, so absolute figures are noisy;
# what means something is a ratio measured in the same run: raftkv ÷ stale
# reads (part 1) and raftkv ÷ etcd at the same connection count (part 2).
#
# Part 1 drives raftkv with raftkv-workload (its own client, all three nodes).
# Part 2 drives both systems with wrk and tests/bench/kv.lua: the same client,
# keep-alive HTTP/1.1, the same keys and value size, each system through its own
# HTTP API, all connections to the leader (no forwarding hop on either side).
# raftkv-workload cannot speak etcd's v3 gateway, so it is not used there.
#
# CPU cost (the "cpu µs" column): user+system CPU time of the three node
# processes over each point, read from /proc/PID/stat, divided by the requests
# served. Instruction counts (perf stat -e instructions) are not available on
# the VM this was written on (the counter reads <not supported>), and CPU time
# covers etcd too, which callgrind does not handle well (Go runtime).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${RAFTKV_BIN:-$ROOT/bin}
if [ -n "${BENCH_QUICK:-}" ]; then
	DUR=${BENCH_SECONDS:-2}
	CONNS=${BENCH_CONNS:-1 32 512}
else
	DUR=${BENCH_SECONDS:-5}
	CONNS=${BENCH_CONNS:-1 8 32 128 512}
fi
CLIENTS=${BENCH_CLIENTS:-32}
BASE=${BENCH_PORT_BASE:-2620}
ETCD_BASE=${BENCH_ETCD_PORT_BASE:-2680}
KEYS=100
VALUE=16
dir=$(mktemp -d "${TMPDIR:-/tmp}/raftkv-bench.XXXXXX")
out=$ROOT/build/bench
mkdir -p "$out"
cleanup() {
	RAFTKV_BIN=$BIN "$ROOT/tests/cluster.sh" stop "$dir/raftkv" || true
	"$ROOT/tests/bench/etcd.sh" stop "$dir/etcd" || true
	rm -rf "$dir"
}
trap cleanup EXIT

# ---------------------------------------------------------------- part 1
RAFTKV_BIN=$BIN "$ROOT/tests/cluster.sh" start "$dir/raftkv" 3 "$BASE" >/dev/null
NODES="http://127.0.0.1:$BASE,http://127.0.0.1:$((BASE + 1)),http://127.0.0.1:$((BASE + 2))"

run() { # NAME FLAGS...
	local name=$1
	shift
	"$BIN/raftkv-workload" --nodes "$NODES" --clients "$CLIENTS" --duration "$DUR" --no-final-reads \
		--quiet --summary "$out/$name.json" --plot "$out/$name.svg" --key-prefix "$name-" "$@" >/dev/null
}

echo "raftkv bench: 3 nodes, fsync on, ${DUR}s per run, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== 1. raftkv alone (raftkv-workload, $CLIENTS connections over all nodes)"
run baseline-stale-reads --mix read=100 --consistency stale
# write the keys once so the read runs read real values
run writes --mix write=100 --keys 100
run linearizable-reads --mix read=100 --consistency linearizable --keys 100
run log-reads --mix read=100 --consistency log --keys 100 --duration "$(( DUR / 2 > 0 ? DUR / 2 : 1 ))"

base=$(jq -r '.throughput_per_s' "$out/baseline-stale-reads.json")
printf '%-22s %12s %10s %10s %12s\n' run "ops/s" "p50 ms" "p99 ms" "÷ baseline"
for name in baseline-stale-reads writes linearizable-reads log-reads; do
	jq -r --arg n "$name" --argjson b "$base" \
		'[$n, .throughput_per_s, .latency_ms.all.p50, .latency_ms.all.p99, (.throughput_per_s / $b)] |
		 "\(.[0]) \(.[1]) \(.[2]) \(.[3]) \(.[4])"' "$out/$name.json" |
		awk '{ printf "%-22s %12.0f %10.2f %10.2f %12.3f\n", $1, $2, $3, $4, $5 }'
done
echo "targets (issue 2): 30000 writes/s, 100000 linearizable reads/s on 2 cores"

# ---------------------------------------------------------------- part 2
# The node processes of a system, for CPU time: raftkv's are the agents' children.
raftkv_pids() {
	local f
	for f in "$dir"/raftkv/agent*.pid; do pgrep -P "$(cat "$f")"; done
}
etcd_pids() { cat "$dir"/etcd/e*.pid; }
# user+system CPU seconds used so far by the given processes, summed
cpu_seconds() {
	local pid total=0 t
	for pid in "$@"; do
		t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
		total=$((total + t))
	done
	awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}
raftkv_leader_url() {
	local id
	id=$(curl -fs -m 2 "http://127.0.0.1:$BASE/admin/status" | jq -r '.leader')
	[ "$id" != null ] || return 1
	echo "http://127.0.0.1:$((BASE + id))"
}
etcd_leader_url() {
	local i st
	for i in 0 1 2; do
		st=$(curl -fs -m 2 -X POST "http://127.0.0.1:$((ETCD_BASE + i))/v3/maintenance/status" -d '{}')
		if [ "$(jq -r '.header.member_id == .leader' <<<"$st")" = true ]; then
			echo "http://127.0.0.1:$((ETCD_BASE + i))"
			return 0
		fi
	done
	return 1
}

sweep=$out/sweep.tsv
printf 'system\top\tconns\tops_per_s\tp50_ms\tp99_ms\terrors\tcpu_us_per_op\n' >"$sweep"
point() { # SYSTEM OP CONNS URL PIDS...
	local sys=$1 op=$2 c=$3 url=$4 threads=2 c0 c1 js
	shift 4
	[ "$c" -ge 2 ] || threads=1
	c0=$(cpu_seconds "$@")
	js=$(BENCH_SYSTEM=$sys BENCH_OP=$op BENCH_KEYS=$KEYS BENCH_VALUE=$VALUE \
		wrk -t "$threads" -c "$c" -d "${DUR}s" --timeout 10s -s "$ROOT/tests/bench/kv.lua" "$url" | grep '^{')
	c1=$(cpu_seconds "$@")
	jq -r --arg s "$sys" --arg o "$op" --arg c "$c" --argjson cpu "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
		'[$s, $o, $c, .ops_per_s, .p50_ms, .p99_ms, .errors,
		  (if .requests > 0 then $cpu * 1e6 / .requests else 0 end)] | @tsv' <<<"$js" >>"$sweep"
}
preload() { # SYSTEM URL: write every key once, so the reads read real values
	BENCH_SYSTEM=$1 BENCH_OP=write BENCH_KEYS=$KEYS BENCH_VALUE=$VALUE \
		wrk -t 1 -c 8 -d 1s -s "$ROOT/tests/bench/kv.lua" "$2" >/dev/null
}

if ! command -v wrk >/dev/null; then
	echo "wrk not installed (Debian package wrk): no comparison with etcd, no sweep"
	exit 0
fi
echo
echo "== 2. raftkv beside etcd (wrk, all connections to the leader, $KEYS keys, ${VALUE}-byte values)"
systems=raftkv
rurl=$(raftkv_leader_url) || { echo "raftkv: no leader" >&2; exit 1; }
mapfile -t rpids < <(raftkv_pids)
eurl=""
if [ -n "${BENCH_NO_ETCD:-}" ]; then
	echo "etcd: skipped (BENCH_NO_ETCD)"
elif ! command -v etcd >/dev/null; then
	echo "etcd: not installed (Debian package etcd-server; make bench installs it as root), raftkv only"
elif "$ROOT/tests/bench/etcd.sh" start "$dir/etcd" "$ETCD_BASE" && eurl=$(etcd_leader_url); then
	systems="raftkv etcd"
	mapfile -t epids < <(etcd_pids)
	echo "etcd $(etcd --version | awk '/etcd Version/ { print $3 }'), fsync on"
else
	eurl=""
	echo "etcd: cluster did not start, raftkv only"
fi
# Both clusters stay up and every point runs raftkv then etcd back to back, so a
# change in the machine's load falls on both sides of each ratio alike.
preload raftkv "$rurl"
[ -z "$eurl" ] || preload etcd "$eurl"
# The floor under a write's latency: every write waits for one follower's WAL
# write + fdatasync (and the leader's own, in parallel). From the nodes' own
# histogram (raftkv_wal_write_seconds), over the write points just run.
wal_fsync_summary() { # NODE
	curl -fs -m 2 "http://127.0.0.1:$((BASE + $1))/metrics" | awk -v node="$1" '
		/^raftkv_wal_write_seconds_bucket\{le="0.001"\}/ { le1 = $2 }
		/^raftkv_wal_write_seconds_bucket\{le="0.0025"\}/ { le25 = $2 }
		/^raftkv_wal_write_seconds_bucket\{le="0.005"\}/ { le5 = $2 }
		/^raftkv_wal_write_seconds_sum/ { sum = $2 }
		/^raftkv_wal_write_seconds_count/ { n = $2 }
		END { if (n > 0) printf "  node %s: %d WAL writes, mean %.2f ms, over 1 ms %.0f%%, over 2.5 ms %.0f%%, over 5 ms %.0f%%\n",
			node, n, sum * 1000 / n, 100 * (n - le1) / n, 100 * (n - le25) / n, 100 * (n - le5) / n }'
}
for op in write read; do
	for c in $CONNS; do
		point raftkv "$op" "$c" "$rurl" "${rpids[@]}"
		[ -z "$eurl" ] || point etcd "$op" "$c" "$eurl" "${epids[@]}"
	done
	if [ "$op" = write ]; then
		echo "raftkv WAL write + fdatasync during the write points (each write waits for a follower's):"
		for i in 0 1 2; do wal_fsync_summary "$i"; done
	fi
done
RAFTKV_BIN=$BIN "$ROOT/tests/cluster.sh" stop "$dir/raftkv"
"$ROOT/tests/bench/etcd.sh" stop "$dir/etcd"
# shellcheck disable=SC2086
"$ROOT/tests/bench/report.sh" "$sweep" "$out/sweep.svg" $systems

# ---------------------------------------------------------------- part 3
if [ -z "${BENCH_NO_CG:-}" ] && command -v valgrind >/dev/null; then
	echo
	echo "== 3. raftkv instructions per request, summed over the 3 nodes (callgrind, 8 connections)"
	"$ROOT/tests/bench/instructions.sh" "$dir/cg" "$BASE"
fi

# ---------------------------------------------------------------- part 4
if [ -z "${BENCH_NO_FAILOVER:-}" ]; then
	echo
	echo "== 4. kill -9 of the leader -> next acknowledged write (default timeouts, ${BENCH_FAILOVER_TRIES:-20} tries)"
	"$ROOT/tests/bench/failover.sh" "$dir/failover" "$BASE" "${BENCH_FAILOVER_TRIES:-20}"
fi
