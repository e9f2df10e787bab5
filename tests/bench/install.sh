#!/bin/bash
# `make bench-install`: how long a follower takes to receive and install a
# snapshot of 1,000,000 keys with 100-byte values (issue 11's figure: under
# 10 s) while the cluster keeps serving writes. A figure, not a test: it
# prints what it measured and fails only when something did not work.
#
#   1. a 3-node cluster (fsync on, --snapshot-trailing 10), node 2 killed;
#   2. 1,000,000 keys written to the leader as 200 transactions of 5,000;
#   3. POST /admin/snapshot on the leader: durable, the log compacted behind
#      it, so node 2 can only catch up through the snapshot;
#   4. a write load (raftkv-workload --bench, 8 clients) on nodes 0 and 1;
#   5. node 2 started: the time from its start to its first install
#      (raftkv_snapshot_installs_total), and the leader's writes/s meanwhile.
#
#   INSTALL_KEYS=N   keys (default 1000000)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAFTKV_BIN:-$ROOT/bin}
KEYS=${INSTALL_KEYS:-1000000}
PER_TXN=5000
BASE=${INSTALL_BASE:-27300}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/raftkv-install.XXXXXX")
url() { echo "http://127.0.0.1:$((BASE + $1))"; }
agent() { echo "http://127.0.0.1:$((BASE + 20 + $1))"; }
cleanup() {
	[ -n "${WL:-}" ] && kill "$WL" 2>/dev/null || true
	"$ROOT/tests/cluster.sh" stop "$DIR" || true
	rm -rf "$DIR"
}
trap cleanup EXIT
metric() { curl -s -m 3 "$(url "$1")/metrics" | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'; }

RAFTKV_NODE_FLAGS="--snapshot-entries 0 --snapshot-trailing 10" "$ROOT/tests/cluster.sh" start "$DIR" 3 "$BASE"
for _ in $(seq 300); do
	l=$(curl -s -m 2 "$(url 0)/admin/status" | jq -r '.leader // empty' 2>/dev/null || true)
	[ -n "$l" ] && [ "$l" != null ] && [ "$l" != 2 ] && break
	# node 2 must not lead: it is the one kept down
	[ "$l" = 2 ] && curl -s -m 2 -X POST -d '{"to":0}' "$(url 2)/admin/transfer" >/dev/null || true
	sleep 0.2
done
L=$l
echo "bench-install: leader $L; node 2 down; writing $KEYS keys of 100 bytes"
curl -s -m 10 -X POST "$(agent 2)/agent/kill" >/dev/null
t0=$(date +%s%N)
python3 "$ROOT/tests/bench/load_keys.py" "$(url "$L")/txn" "$KEYS" "$PER_TXN" bench-install
t1=$(date +%s%N)
echo "bench-install: loaded in $(( (t1 - t0) / 1000000 )) ms"
snap=$(curl -s -m 120 -X POST "$(url "$L")/admin/snapshot")
echo "bench-install: leader snapshot: $snap; file $(ls -l "$DIR/n$L/snapshots/" | awk '/\.snap$/ {print $5, $9}' | tail -n 1)"
live="$(url 0),$(url 1)"
"$BIN/raftkv-workload" --nodes "$live" --bench --clients 8 --duration 40 --key-prefix load- \
	--summary "$DIR/load.json" --quiet >"$DIR/load.out" 2>&1 &
WL=$!
sleep 3
w0=$(metric "$L" raftkv_applied_entries_total)
ts=$(date +%s%N)
curl -s -m 10 -X POST "$(agent 2)/agent/start" >/dev/null
for _ in $(seq 600); do
	[ "$(metric 2 raftkv_snapshot_installs_total)" -ge 1 ] 2>/dev/null && break
	sleep 0.05
done
te=$(date +%s%N)
w1=$(metric "$L" raftkv_applied_entries_total)
[ "$(metric 2 raftkv_snapshot_installs_total)" -ge 1 ] || { echo "bench-install: node 2 installed nothing in 30 s" >&2; exit 1; }
ms=$(( (te - ts) / 1000000 ))
echo "bench-install: node 2 started -> snapshot installed: ${ms} ms (includes its start-up and boot);" \
	"its chunks received: $(metric 2 raftkv_snapshot_chunks_received_total);" \
	"install duration it reports: $(metric 2 raftkv_snapshot_install_milliseconds) ms;" \
	"entries the leader applied meanwhile: $((w1 - w0)) ($(( (w1 - w0) * 1000 / (ms > 0 ? ms : 1) )) per s)"
wait "$WL" || true
WL=
# The workload's summary keys (tests/workload/summary.c): a missing one is an
# error here, not a null in the figure.
echo "bench-install: load during the run: $(jq -ec '{ops_per_s: (.throughput_per_s | floor), ok: .ok, p99_ms: .latency_ms.all.p99} | if any(.[]; . == null) then error("summary keys missing") else . end' "$DIR/load.json" 2>&1 || tail -n 3 "$DIR/load.out")"
