#!/bin/bash
# Part 4 of `make bench`: kill -9 of the leader -> the next acknowledged write.
#
#   tests/bench/failover.sh DIR BASE [TRIES]      (default 20 tries)
#
# A 3-node cluster at the default timeouts (RAFTKV_NODE_FLAGS adds flags, to
# compare other settings). Each try: every node ready, one write through the
# leader, then the leader is killed by its agent (SIGKILL; the agent answers
# once it has reaped it) and a client writes to the two survivors in turn,
# one request at a time (curl, 1 s limit each), until one is answered 200.
# Per try it prints the milliseconds from the kill to
#   leader: the first answer from a survivor that names a new leader
#           (X-Raft-Leader): failure detection (election timeout) + pre-vote
#           + vote;
#   write:  the first 200: the above + the new leader's no-op commit + the
#           client's own retries (each survivor answers 503 while it knows
#           no leader);
# and how many terms the election took (1 = one clean election). Then the
# killed node is started again and the next try waits until it has caught up.
# Figures, not a test: nothing here fails on a slow result.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAFTKV_BIN:-$ROOT/bin}
dir=$1 base=$2 tries=${3:-20}
mkdir -p "$dir"
stop() { RAFTKV_BIN=$BIN "$ROOT/tests/cluster.sh" stop "$dir/cluster" || true; }
trap stop EXIT
RAFTKV_BIN=$BIN "$ROOT/tests/cluster.sh" start "$dir/cluster" 3 "$base" >/dev/null

now_ms() { echo $(($(date +%s%N) / 1000000)); }
status() { curl -fs -m 1 "http://127.0.0.1:$((base + $1))/admin/status"; }
all_ready() {
	local i deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		for i in 0 1 2; do
			curl -fs -m 1 "http://127.0.0.1:$((base + i))/readyz" >/dev/null 2>&1 || continue 2
		done
		return 0
	done
	return 1
}

printf '%-4s %8s %8s %6s\n' try "leader" "write" terms
res=$dir/failover.tsv
: >"$res"
for ((t = 1; t <= tries; t++)); do
	all_ready || { echo "try $t: cluster not ready" >&2; exit 1; }
	st=$(status 0)
	lead=$(jq -r '.leader' <<<"$st")
	term0=$(jq -r '.term' <<<"$st")
	[ "$lead" != null ] || { t=$((t - 1)); sleep 0.2; continue; }
	curl -fs -m 2 -o /dev/null -X PUT --data-binary before "http://127.0.0.1:$((base + lead))/kv/failover" ||
		{ t=$((t - 1)); sleep 0.2; continue; }
	# The kill lands anywhere between two heartbeats.
	sleep "0.$(printf '%03d' $((RANDOM % 100)))"
	survivors=()
	for i in 0 1 2; do [ "$i" = "$lead" ] || survivors+=("$i"); done
	t0=$(now_ms)
	curl -fs -m 5 -o /dev/null -X POST "http://127.0.0.1:$((base + 20 + lead))/agent/kill"
	t_lead="" t_write="" k=0
	while [ $(($(now_ms) - t0)) -lt 10000 ]; do
		n=${survivors[$((k % 2))]}
		k=$((k + 1))
		out=$(curl -s -m 1 -o /dev/null -w '%{http_code} %header{x-raft-leader}' -X PUT \
			--data-binary "try-$t" "http://127.0.0.1:$((base + n))/kv/failover" || true)
		code=${out%% *} hdr=${out#* }
		if [ -z "$t_lead" ] && [ -n "$hdr" ] && [ "$hdr" != none ] && [ "$hdr" != "$lead" ] && [ "$hdr" != "$code" ]; then
			t_lead=$(($(now_ms) - t0))
		fi
		if [ "$code" = 200 ]; then
			t_write=$(($(now_ms) - t0))
			[ -n "$t_lead" ] || t_lead=$t_write
			break
		fi
	done
	term1=$(status "${survivors[0]}" | jq -r '.term')
	printf '%-4s %8s %8s %6s\n' "$t" "${t_lead:--}" "${t_write:-none}" "$((term1 - term0))"
	printf '%s\t%s\t%s\n' "${t_lead:-10000}" "${t_write:-10000}" "$((term1 - term0))" >>"$res"
	curl -fs -m 5 -o /dev/null -X POST "http://127.0.0.1:$((base + 20 + lead))/agent/start"
done
pct() { # COLUMN FRACTION: nearest-rank percentile of a column of the results
	cut -f"$1" "$res" | sort -n | awk -v f="$2" '{ v[NR] = $1 } END { i = int(NR * f + 0.999); if (i < 1) i = 1; print v[i] }'
}
extra=$(awk -F'\t' '$3 > 1' "$res" | wc -l)
echo "kill -9 of the leader -> next acknowledged write, $tries tries: median $(pct 2 0.5) ms, p90 $(pct 2 0.9) ms, max $(pct 2 1)"
echo "  new leader named by a survivor: median $(pct 1 0.5) ms; elections that took more than one term: $extra of $tries"
