#!/bin/bash
# Flood measurement (issue 15.4), `make flood`: a local 3-node cluster,
# CLIENTS keep-alive connections (wrk, spread over the three nodes) writing
# VALUE_BYTES values as fast as they can for SECONDS, and one client (curl)
# writing a small value to the leader every 50 ms. Prints the machine's load
# when it starts (the figures depend on what else runs), what the small
# writer saw (acknowledged %, p50/p99 latency), what the flood got (by
# status), leader changes (term and leader at start and end, and (term,
# leader) pairs sampled each second), and the largest RSS of each node.
# On a shared machine run it under `flock /tmp/raftkv-cluster.lock`. The
# pass/fail version, scaled down and checked by raftkv-check, is
# tests/bats/14-flood.bats.
#
#   tests/flood.sh [CLIENTS] [SECONDS] [VALUE_BYTES]    (default 200 30 1048576)
#   RAFTKV_BIN=dir  binaries (default bin); RAFTKV_NODE_FLAGS as tests/cluster.sh
#   FLOOD_BASE=port first port of the cluster (default 27500)
#   FLOOD_NICE=N    run the flood's wrk at nice N in a session of its own,
#                   its autogroup at nice N too (/proc/PID/autogroup): with
#                   autogroup scheduling a plain `nice` only ranks wrk against
#                   the processes of the caller's own session, not against the
#                   nodes (each in a session of its own). Default: the
#                   caller's session and priority, like any client.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
clients=${1:-200} secs=${2:-30} vbytes=${3:-1048576}
base=${FLOOD_BASE:-27500}
command -v wrk >/dev/null || { echo "flood: needs wrk (make flood installs it)" >&2; exit 1; }
dir=$(mktemp -d /tmp/raftkv-flood-XXXXXX)
trap '"$ROOT/tests/cluster.sh" stop "$dir/c" >/dev/null 2>&1; [ -n "${FLOOD_KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"' EXIT
"$ROOT/tests/cluster.sh" start "$dir/c" 3 "$base" >/dev/null || exit 1
url() { echo "http://127.0.0.1:$((base + $1))"; }
status() { curl -s -m 2 "$(url "$1")/admin/status"; }
leader() {
	local i
	for i in 0 1 2; do status "$i" | grep -q '"role":"leader"' && { echo "$i"; return; }; done
}
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq 1 100); do l=$(leader); [ -n "$l" ] && break; sleep 0.2; done
[ -n "${l:-}" ] || { echo "flood: no leader"; exit 1; }
term0=$(status "$l" | grep -o '"term":[0-9]*' | cut -d: -f2)

end=$(($(date +%s) + secs))

# the flood: CLIENTS connections spread over the three nodes, each writing
# its own keys back to back. One wrk process per node (epoll, keep-alive):
# the load generator must not be a fork storm that starves the nodes of CPU
# on a small machine (200 shell loops forking curl did exactly that).
per=$(((clients + 2) / 3))
niced() { # CMD...: at FLOOD_NICE, in its own session and autogroup, if set
	if [ -z "${FLOOD_NICE:-}" ]; then
		"$@"
	else
		setsid sh -c 'echo "$1" >/proc/self/autogroup && shift && exec nice -n "$0" "$@"' \
			"$FLOOD_NICE" "$FLOOD_NICE" "$@"
	fi
}
for i in 0 1 2; do
	FLOOD_VALUE=$vbytes niced wrk -t1 -c"$per" -d"${secs}s" --timeout 10s \
		-s "$ROOT/tests/flood.lua" "$(url "$i")" >"$dir/flood.$i" 2>&1 &
done
# the small writer, to the leader, every 50 ms; elections seen by sampling
(
	n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}\n' -X PUT \
			--data-binary "s$n" "$(url "$l")/kv/small-$n" || echo "000 5"
		sleep 0.05
	done >"$dir/small"
) &
(
	while [ "$(date +%s)" -lt "$end" ]; do
		for i in 0 1 2; do
			p=$(pgrep -f "^[^ ]*/raftkv --node $i .*$dir/c/n$i" | head -n 1)
			[ -n "$p" ] && echo "$i $(ps -o rss= -p "$p" 2>/dev/null)"
		done
		for i in 0 1 2; do status "$i" | grep -o '"term":[0-9]*,"leader":[0-9a-z]*'; done
		sleep 1
	done >"$dir/samples"
) &
wait
sleep 1
# Why leadership held or churned (node/server/metrics.h): loop periods and
# follower-side gaps between frames from the leader longer than the
# smallest election timeout (300 ms by default), and the loop thread's CPU
# time and preemptions (a long period with little CPU: not scheduled).
for i in 0 1 2; do curl -s -m 5 "$(url "$i")/metrics" >"$dir/metrics.$i"; done
# (each stall is also a line in the node's log: grep "loop stalled" DIR/c/n*.log)
term1=$(status "$l" | grep -o '"term":[0-9]*' | cut -d: -f2)
l1=$(leader)
total=$(wc -l <"$dir/small")
ok=$(grep -c '^200 ' "$dir/small")
lat=$(awk '$1 == 200 { print $2 }' "$dir/small" | sort -n)
pct() { echo "$lat" | awk -v p="$1" 'NF { a[n++] = $1 } END { if (n == 0) { print "n/a"; exit } i = int(n * p); if (i >= n) i = n - 1; printf "%.3f s", a[i] }'; }
if [ -n "${FLOOD_NICE:-}" ]; then wrk_prio="at nice $FLOOD_NICE in its own autogroup"; else wrk_prio="in the caller's session at its priority"; fi
echo "flood: $clients clients x $vbytes bytes for ${secs}s, small writes every 50 ms to the leader (node $l); wrk $wrk_prio; load average at start $load0"
echo "small writes: $ok/$total acknowledged ($(awk -v a="$ok" -v b="$total" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')%), p50 $(pct 0.5), p99 $(pct 0.99)"
echo "small write failures by status: $(awk '$1 != 200 { c[$1]++ } END { for (k in c) printf "%s x%d ", k, c[k] }' "$dir/small")"
echo "flood writes by status: $(awk '/^statuses:/ { for (i = 2; i <= NF; i++) if ($i ~ /^x/) c[$(i - 1)] += substr($i, 2) } /socket errors/ { e += $(NF - 6) + $(NF - 4) + $(NF - 2) + $NF } END { for (k in c) printf "%s x%d ", k, c[k]; printf "socket errors x%d", e }' "$dir"/flood.*)"
echo "term $term0 -> $term1, leader node $l -> node ${l1:-none}; distinct (term,leader) seen: $(grep -o '"term":[0-9]*,"leader":[0-9]*' "$dir/samples" | sort -u | wc -l)"
over() { # FILE HISTOGRAM BOUND: observations above BOUND
	awk -v h="$2" -v b="$3" '$1 == h "_bucket{le=\"" b "\"}" { le = $2 } $1 == h "_count" { n = $2 } END { print n - le }' "$1"
}
longest() { # FILE HISTOGRAM: the smallest bucket bound holding every observation ("none": no observation)
	awk -v h="$2" 'index($1, h "_bucket{le=\"") == 1 { b = $1; sub(/.*le="/, "", b); sub(/".*/, "", b); le[++k] = b; c[k] = $2 } $1 == h "_count" { n = $2 } END { if (n == 0) { print "none"; exit } for (i = 1; i <= k; i++) if (c[i] >= n) { print (le[i] == "+Inf" ? "> 5" : "<= " le[i]) " s"; exit } }' "$1"
}
for i in 0 1 2; do
	m=$dir/metrics.$i
	echo "node $i: loop periods > 0.3 s: $(over "$m" raftkv_loop_period_seconds 0.3) of $(awk '$1 == "raftkv_loop_period_seconds_count" { print $2 }' "$m"), leader gaps > 0.3 s: $(over "$m" raftkv_leader_gap_seconds 0.3), longest loop period $(longest "$m" raftkv_loop_period_seconds), longest leader gap $(longest "$m" raftkv_leader_gap_seconds), loop CPU $(awk '$1 == "raftkv_loop_cpu_milliseconds_total" { print $2 }' "$m") ms, preempted $(awk '$1 == "raftkv_loop_preemptions_total" { print $2 }' "$m") times, stalls >= half an election timeout: $(awk '$1 ~ /^raftkv_loop_stalls_[a-z]*_total$/ { c = $1; sub(/^raftkv_loop_stalls_/, "", c); sub(/_total$/, "", c); printf "%s%s %s", sep, c, $2; sep = ", " }' "$m")"
done
echo "max RSS (MiB): $(awk 'NF == 2 && $2 ~ /^[0-9]+$/ { if ($2 > m[$1]) m[$1] = $2 } END { for (i = 0; i < 3; i++) printf "n%d %.0f  ", i, m[i] / 1024 }' "$dir/samples")"
