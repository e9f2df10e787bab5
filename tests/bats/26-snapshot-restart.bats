#!/usr/bin/env bats
# Snapshots a node takes of itself (issue 11): automatic and on demand, the
# log compacted behind them, restarts from them, damaged files caught.
# Small thresholds so a short run crosses several snapshots and compactions;
# the trailing margin stays above what a killed follower falls behind in a
# nemesis interval (followers past it need InstallSnapshot, another file).

load helpers

setup_file() {
	export RAFTKV_NODE_FLAGS="--snapshot-entries 200 --snapshot-trailing 1000 --wal-segment-bytes 32768"
	cluster_up 3
}
teardown_file() { cluster_down; }
teardown() { heal_all; }

nodes() { local i s=""; for ((i = 0; i < CLUSTER_N; i++)); do s+="${s:+,}$(node_url "$i")"; done; echo "$s"; }
agents() { local i s=""; for ((i = 0; i < CLUSTER_N; i++)); do s+="${s:+,}$(agent_url "$i")"; done; echo "$s"; }
snap_index() { status_of "$1" | jq -r .snapshot_index; }
snap_files() { ls "$CLUSTER_DIR/n$1/snapshots" 2>/dev/null | grep -c '\.snap$' || true; }
snap_files_are() { [ "$(snap_files "$1")" -eq "$2" ]; } # NODE N

@test "POST /admin/snapshot answers with the index once durable; raftkv-ctl snapshot" {
	[ "$RAFTKV_BACKEND" = local ] || skip "reads the local data dir"
	wait_leader 15 >/dev/null
	write_many ondemand 10
	http POST "$(node_url 1)/admin/snapshot" '{}'
	echo "$status_code $body"
	[ "$status_code" = 200 ]
	idx=$(echo "$body" | jq -r .index)
	[ "$idx" -gt 0 ]
	[ "$(snap_index 1)" -ge "$idx" ]
	ls "$CLUSTER_DIR/n1/snapshots" | grep -q "$(printf 'snapshot-%020d-' "$idx")"
	# nothing applied since: the same index at once
	http POST "$(node_url 1)/admin/snapshot" '{}'
	[ "$(echo "$body" | jq -r .index)" -ge "$idx" ]
	curl -s "$(node_url 1)/metrics" | grep -E '^raftkv_snapshots_total [1-9]'
	curl -s "$(node_url 1)/metrics" | grep -E '^raftkv_snapshot_bytes [1-9]'
	run "$BINDIR/raftkv-ctl" --nodes "$(nodes)" ${TOKEN:+--token "$TOKEN"} snapshot
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c 'snapshot at index')" -eq 3 ]
	http GET "$(node_url 1)/admin/snapshot"
	[ "$status_code" = 405 ]
}

@test "automatic snapshots and compaction; restarts after compaction recover every acknowledged write (checked linearizable)" {
	[ "$RAFTKV_BACKEND" = local ] || skip "reads the local data dir and node logs"
	run "$BINDIR/raftkv-workload" --nodes "$(nodes)" --agents "$(agents)" ${TOKEN:+--admin-token "$TOKEN"} \
		--key-prefix "auto-" --clients 8 --keys 6 --duration 15 --rate 400 --mix read=30,write=50,cas=10,append=10 \
		--nemesis kill --nemesis-interval 2 --timeout-ms 1500 --check --quiet \
		--history "$BATS_FILE_TMPDIR/auto.jsonl" --nemesis-log "$BATS_FILE_TMPDIR/auto.nemesis"
	echo "$output" | tail -n 20
	[ "$status" -eq 0 ]
	[ "$(grep -c '"ok"' "$BATS_FILE_TMPDIR/auto.jsonl")" -gt 500 ]
	grep -q kill "$BATS_FILE_TMPDIR/auto.nemesis"
	run "$BINDIR/raftkv-check" "$BATS_FILE_TMPDIR/auto.jsonl"
	[ "$status" -eq 0 ]
	# every node snapshotted, and the log was compacted behind them
	for i in 0 1 2; do
		[ "$(snap_index "$i")" -gt 600 ]
		[ "$(snap_files "$i")" -le 2 ]
	done
	grep -h 'WAL compacted' "$CLUSTER_DIR"/n*.log | head -n 3
	[ -n "$(grep -l 'WAL compacted' "$CLUSTER_DIR"/n*.log)" ]
	# now every node restarts at once: each comes back from its snapshot
	# plus the log after it, and nothing acknowledged is missing
	write_many after 20
	for i in 0 1 2; do kill_node "$i"; done
	for i in 0 1 2; do start_node "$i"; done
	for i in 0 1 2; do wait_until 30 curl -fs "$(node_url "$i")/readyz"; done
	for i in 0 1 2; do
		node_log "$i" | grep 'snapshot loaded' | tail -n 1
		[ "$(node_log "$i" | grep -c 'snapshot loaded')" -ge 1 ]
		check_acked_on "$i"
	done
	for k in 0 1 2 3 4 5; do
		for i in 0 1 2; do kv_get "$i" "auto-k$k"; echo "$i auto-k$k $status_code $body"; done
	done
}

# corrupt_and_restart NODE MODE: two snapshots on NODE, then damage the
# newest while it is down; it must not load it, say so naming the file, and
# come back from the older one plus the log with every acknowledged write.
corrupt_and_restart() {
	local f=$1 mode=$2
	write_many "$mode-a" 10
	admin_post "$f" /admin/snapshot >/dev/null
	write_many "$mode-b" 10
	admin_post "$f" /admin/snapshot >/dev/null
	# the POST answers once the new file is durable; pruning to two runs
	# after it on a worker (make test failed once reading 3 files here)
	wait_until 10 snap_files_are "$f" 2
	newest=$(ls "$CLUSTER_DIR/n$f/snapshots" | grep '\.snap$' | sort | tail -n 1)
	kill_node "$f"
	run agent_post "$f" corrupt "{\"target\":\"snapshot\",\"mode\":\"$mode\",\"count\":3}"
	echo "$output"
	echo "$output" | grep -q "$newest"
	start_node "$f"
	wait_until 30 curl -fs "$(node_url "$f")/readyz"
	node_log "$f" | grep 'snapshot damaged, not loaded' | tail -n 1
	node_log "$f" | grep 'snapshot damaged, not loaded' | tail -n 1 | grep -q "$newest"
	ls "$CLUSTER_DIR/n$f/snapshots" | grep -q "$newest.damaged"
	check_acked_on "$f"
}

@test "a bitflipped snapshot is caught and never loaded" {
	[ "$RAFTKV_BACKEND" = local ] || skip "reads the local data dir and node logs"
	l=$(wait_leader 15)
	corrupt_and_restart "$(other_node "$l")" bitflip
}

@test "a truncated snapshot is caught and never loaded" {
	[ "$RAFTKV_BACKEND" = local ] || skip "reads the local data dir and node logs"
	l=$(wait_leader 15)
	corrupt_and_restart "$(other_node "$l")" truncate
}
