#!/bin/bash
# Part 3 of `make bench`: instructions per write and per linearizable read,
# summed over the three raftkv nodes, counted by callgrind.
#
#   tests/bench/instructions.sh DIR BASE
#
# perf stat -e instructions is the cheap way, but the hardware counter is not
# available on every VM (it reads <not supported> on the one this was written
# on), so this runs each node under callgrind instead: counters are zeroed (vgdb
# "zero") after the cluster is up and the keys written, wrk runs a phase, then
# each node dumps what it counted (vgdb "dump"). The count includes everything
# the node did in the phase (heartbeats, ticks), divided by the requests served.
# Under callgrind the nodes run ~50x slower: the election timeout is raised so
# that the slowdown does not cost elections, and the figures are instructions,
# not time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAFTKV_BIN:-$ROOT/bin}
dir=$1 base=$2
secs=${BENCH_CG_SECONDS:-5}
mkdir -p "$dir/bin" "$dir/cg"
ln -sf "$BIN/raftkv-agent" "$dir/bin/raftkv-agent"
cat >"$dir/bin/raftkv" <<EOT
#!/bin/sh
exec valgrind --tool=callgrind --vgdb=yes --callgrind-out-file="$dir/cg/node.%p.out" "$BIN/raftkv" "\$@"
EOT
chmod +x "$dir/bin/raftkv"
stop() { RAFTKV_BIN=$dir/bin "$ROOT/tests/cluster.sh" stop "$dir/cluster" || true; }
trap stop EXIT
RAFTKV_BIN=$dir/bin RAFTKV_READY_TIMEOUT=180 RAFTKV_NODE_FLAGS="--election-ticks 300 --heartbeat-ticks 20" \
	"$ROOT/tests/cluster.sh" start "$dir/cluster" 3 "$base" >/dev/null
pids=()
for f in "$dir"/cluster/agent*.pid; do pids+=("$(pgrep -P "$(cat "$f")")"); done
id=$(curl -fs -m 10 "http://127.0.0.1:$base/admin/status" | jq -r '.leader')
url="http://127.0.0.1:$((base + id))"

phase() { # OP: prints instructions per request
	local op=$1 p n total=0 js req
	for p in "${pids[@]}"; do vgdb --pid="$p" zero >/dev/null 2>&1; done
	js=$(BENCH_SYSTEM=raftkv BENCH_OP=$op wrk -t 1 -c 8 -d "${secs}s" --timeout 30s \
		-s "$ROOT/tests/bench/kv.lua" "$url" | grep '^{')
	for p in "${pids[@]}"; do
		vgdb --pid="$p" dump >/dev/null 2>&1
		# the newest dump of this node holds the counts since the zero
		n=$(ls -t "$dir"/cg/node."$p".out.* | head -1)
		total=$((total + $(awk '/^totals:/ { print $2 }' "$n")))
	done
	req=$(jq -r '.requests' <<<"$js")
	awk -v t="$total" -v r="$req" -v op="$op" \
		'BEGIN { printf "%-20s %8d requests %14.0f instructions/request\n", op, r, (r > 0 ? t / r : 0) }'
}
BENCH_SYSTEM=raftkv BENCH_OP=write wrk -t 1 -c 8 -d 2s -s "$ROOT/tests/bench/kv.lua" "$url" >/dev/null
phase write
phase read
