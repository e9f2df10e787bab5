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
#
#   BENCH_CG_TOP=N   also print each node's N largest self costs per write and
#                    per read (tests/bench/cg_top.py on that phase's dump), the
#                    leader first: where the instructions go.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAFTKV_BIN:-$ROOT/bin}
dir=$1 base=$2
secs=${BENCH_CG_SECONDS:-5}
mkdir -p "$dir/bin" "$dir/cg"
ln -sf "$BIN/raftkv-agent" "$dir/bin/raftkv-agent"
cat >"$dir/bin/raftkv" <<EOT
#!/bin/sh
exec valgrind --tool=callgrind --vgdb=yes --compress-strings=no --callgrind-out-file="$dir/cg/node.%p.out" "$BIN/raftkv" "\$@"
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

zero() { # counters of every node to 0
	local p
	for p in "${pids[@]}"; do vgdb --pid="$p" zero >/dev/null 2>&1; done
}
count() { # instructions since the last zero, summed over the nodes
	local p n total=0
	: >"$dir/cg/last"
	for p in "${pids[@]}"; do
		vgdb --pid="$p" dump >/dev/null 2>&1
		# the newest dump of this node holds the counts since the zero
		n=$(ls -t "$dir"/cg/node."$p".out.* | head -1)
		echo "$p $n" >>"$dir/cg/last"
		total=$((total + $(awk '/^totals:/ { print $2 }' "$n")))
	done
	echo "$total"
}
# Each dump names every function in full (--compress-strings=no): a
# compressed dump refers to names defined only in the node's earlier dumps,
# so it cannot be read alone.
top() { # OP REQUESTS: each node's largest self costs in the phase just counted
	local key p f role
	while read -r key p f; do
		role=follower
		[ "$key" = 1 ] || role=leader
		echo "  $1, node pid $p ($role): self instructions per request"
		"$ROOT/tests/bench/cg_top.py" "$BENCH_CG_TOP" "$2" "$f"
	done < <(while read -r p f; do
		key=1
		[ "$url" != "http://127.0.0.1:$((base + $(node_id "$p")))" ] || key=0
		echo "$key $p $f"
	done <"$dir/cg/last" | sort)
}
node_id() { # PID: the --node argument of that process
	tr '\0' ' ' <"/proc/$1/cmdline" | sed -n 's/.* --node \([0-9]*\) .*/\1/p'
}
now() { date +%s.%N; }

# What the cluster spends with no requests at all (ticks, heartbeats, timers)
# per second: on a loaded machine fewer requests fit in a phase, so that
# share of the per-request figure grows with the load. The second column
# takes it out (the idle rate times the phase's length), which makes runs
# at different loads comparable; the first is the plain quotient. The keys
# are written first, so that reads find them.
BENCH_SYSTEM=raftkv BENCH_OP=write wrk -t 1 -c 8 -d 2s -s "$ROOT/tests/bench/kv.lua" "$url" >/dev/null
zero
t0=$(now)
sleep "$secs"
idle=$(count)
t1=$(now)
idle_rate=$(awk -v i="$idle" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", i / (b - a) }')
echo "idle cluster: $idle_rate instructions/s"

phase() { # OP: prints instructions per request
	local op=$1 total js req a b
	zero
	a=$(now)
	js=$(BENCH_SYSTEM=raftkv BENCH_OP=$op wrk -t 1 -c 8 -d "${secs}s" --timeout 30s \
		-s "$ROOT/tests/bench/kv.lua" "$url" | grep '^{')
	total=$(count)
	b=$(now)
	req=$(jq -r '.requests' <<<"$js")
	awk -v t="$total" -v r="$req" -v op="$op" -v ir="$idle_rate" -v a="$a" -v b="$b" \
		'BEGIN { printf "%-20s %8d requests %14.0f instructions/request %10.0f net of idle\n", op, r,
			 (r > 0 ? t / r : 0), (r > 0 ? (t - ir * (b - a)) / r : 0) }'
	if [ -n "${BENCH_CG_TOP:-}" ] && [ "$req" -gt 0 ]; then top "$op" "$req"; fi
}
phase write
phase read
