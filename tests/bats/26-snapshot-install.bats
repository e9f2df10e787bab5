#!/usr/bin/env bats
# InstallSnapshot on a real cluster (issue 11): a node kept down while the
# cluster writes past several compactions can no longer catch up from the
# leader's log; it comes back and catches up through a snapshot streamed in
# chunks, while a workload goes on, and the workload's history is judged by
# raftkv-check. Local backend only: it keeps one node down through the agent
# and counts the metrics of InstallSnapshot on both ends.

load helpers

# Small snapshot thresholds: a compaction every 300 entries, 50 kept behind.
setup_file() {
	[ "$RAFTKV_BACKEND" = local ] || return 0
	RAFTKV_NODE_FLAGS="--snapshot-entries 300 --snapshot-trailing 50 ${RAFTKV_NODE_FLAGS:-}" cluster_up 3
}
teardown_file() { cluster_down; }

metric() { # NODE NAME → value (0 when absent)
	curl -s -m 3 ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(node_url "$1")/metrics" |
		awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}
status_field() { status_of "$1" | jq -r ".$2"; } # NODE FIELD

@test "a node kept down past several compactions catches up through a snapshot under load; the history is linearizable" {
	[ "$RAFTKV_BACKEND" = local ] || skip "local backend only"
	wait_leader
	local lead f live="" agents="" i
	lead=$(leader_id)
	f=$(other_node "$lead")
	kill_node "$f"
	wait_until 10 agent_not_running "$f"
	for ((i = 0; i < CLUSTER_N; i++)); do
		[ "$i" = "$f" ] && continue
		live+="${live:+,}$(node_url "$i")"
		agents+="${agents:+,}$(agent_url "$i")"
	done
	# The workload runs on the two live nodes for the whole test: the
	# install happens under it.
	"$BINDIR/raftkv-workload" --nodes "$live" ${TOKEN:+--admin-token "$TOKEN"} \
		--key-prefix install- --clients 6 --keys 4 --duration 25 --rate 400 \
		--timeout-ms 2000 --check --quiet --history "$BATS_FILE_TMPDIR/install.jsonl" \
		>"$BATS_FILE_TMPDIR/workload.out" 2>&1 &
	local wl=$!
	# Several compactions while the node is down: its log ends long before
	# the leader's first index.
	wait_until 60 bash -c "[ \"\$(curl -s -m 2 $(node_url "$lead")/admin/status | jq -r .snapshot_index)\" -ge 1200 ]"
	local snap_at_start
	snap_at_start=$(status_field "$lead" snapshot_index)
	echo "leader $lead snapshot_index $snap_at_start when node $f comes back"
	start_node "$f"
	# It installs a snapshot and then follows the log again.
	wait_until 60 bash -c "[ \"\$(curl -s -m 2 $(node_url "$f")/metrics | awk '\$1==\"raftkv_snapshot_installs_total\"{print \$2}')\" -ge 1 ]"
	wait_until 60 bash -c "[ \"\$(curl -s -m 2 $(node_url "$f")/admin/status | jq -r .applied_index)\" -ge $snap_at_start ]"
	wait "$wl"
	local wrc=$?
	tail -n 20 "$BATS_FILE_TMPDIR/workload.out"
	[ "$wrc" -eq 0 ]
	[ "$(grep -c '"ok"' "$BATS_FILE_TMPDIR/install.jsonl")" -gt 1000 ]
	run "$BINDIR/raftkv-check" "$BATS_FILE_TMPDIR/install.jsonl"
	echo "raftkv-check: exit $status $output"
	[ "$status" -eq 0 ]
	# Chunks went out from the leader (whoever led by then) and came in at
	# the node.
	local sent=0 recv
	for ((i = 0; i < CLUSTER_N; i++)); do
		[ "$i" = "$f" ] || sent=$((sent + $(metric "$i" raftkv_snapshot_chunks_sent_total)))
	done
	recv=$(metric "$f" raftkv_snapshot_chunks_received_total)
	echo "chunks sent: $sent, received by $f: $recv"
	[ "$sent" -ge 1 ]
	[ "$recv" -ge 1 ]
	# The caught-up node holds what the leader holds: each key read
	# linearizably on both.
	local k a b
	for k in install-k0 install-k1 install-k2 install-k3; do
		kv_get "$lead" "$k"
		a="$status_code $(echo "$body" | jq -c .value)"
		kv_get "$f" "$k"
		b="$status_code $(echo "$body" | jq -c .value)"
		echo "$k: leader $a, node $f $b"
		[ "$a" = "$b" ]
	done
}
