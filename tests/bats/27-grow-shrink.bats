#!/usr/bin/env bats
# Membership changes while a workload runs (issue 12 "Tests that must
# exist"): grow 3→5 with --join, shrink 5→3, remove the leader, replace a
# node; each time the history must check linearizable (bin/raftkv-check via
# raftkv-workload --check) and the configuration must end as asked. The
# workload's clients talk to nodes that stay members throughout (a removed
# node answers 503, and a node never added is never ready).

load helpers
load members # members_of, current_leader, change, workload_start/wait, ...

setup_file() { cluster_up 3; }
teardown_file() { cluster_down; } # stops every agent*.pid, the joined nodes' too
teardown() { heal_all; }

# start_joiner ID: node ID under its agent, an empty dir, joining through node 0..2.
start_joiner() {
	local id=$1 via
	via=$(current_leader)
	rm -rf "$CLUSTER_DIR/n$id"
	mkdir -p "$CLUSTER_DIR/n$id"
	"$BINDIR/raftkv-agent" --listen "127.0.0.1:$((CLUSTER_BASE + 20 + id))" --data-dir "$CLUSTER_DIR/n$id" \
		--log "$CLUSTER_DIR/n$id.log" ${TOKEN:+--admin-token "$TOKEN"} -- \
		"$BINDIR/raftkv" --node "$id" --http "127.0.0.1:$((CLUSTER_BASE + id))" \
		--raft "127.0.0.1:$(raft_port "$id")" --join "$(node_url "${via:-0}")" \
		--data-dir "$CLUSTER_DIR/n$id" --enable-faults ${TOKEN:+--admin-token "$TOKEN"} \
		>>"$CLUSTER_DIR/agent$id.log" 2>&1 &
	echo $! >"$CLUSTER_DIR/agent$id.pid"
}
stop_agent() { # ID: the agent and its node, for good
	local f=$CLUSTER_DIR/agent$1.pid pid
	[ -e "$f" ] || return 0
	pid=$(cat "$f")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$f"
}

@test "grow 3 → 5 with --join while a workload runs" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts local processes (tests/docker has the Docker variant)"
	wait_leader 20 >/dev/null
	workload_start grow 0 1 2
	start_joiner 3
	wait_until 20 leader_voters_are "[0,1,2,3]" || show_all
	start_joiner 4
	wait_until 20 leader_voters_are "[0,1,2,3,4]" || show_all
	workload_wait
	for i in 3 4; do status_of "$i" | jq -e '.membership == "voter" and .applied_index > 0'; done
}

@test "shrink 5 → 3 while a workload runs" {
	[ "$RAFTKV_BACKEND" = local ] || skip "needs the grown local cluster"
	leader_voters_are "[0,1,2,3,4]"
	workload_start shrink 0 1 2
	change '{"op":"remove","id":3}'
	change '{"op":"remove","id":4}'
	wait_until 10 leader_voters_are "[0,1,2]" || show_all
	wait_until 10 sh -c "curl -s -m 2 '$(node_url 3)/admin/status' | jq -e .removed >/dev/null"
	workload_wait
	stop_agent 3
	stop_agent 4
	leader_voters_are "[0,1,2]"
}

@test "remove the leader while a workload runs; it steps down and the rest go on" {
	[ "$RAFTKV_BACKEND" = local ] || skip "needs the local cluster of the tests before"
	l=$(current_leader)
	[ -n "$l" ]
	read -r a b <<<"$(for i in 0 1 2; do [ "$i" != "$l" ] && echo -n "$i "; done)"
	workload_start rmleader "$a" "$b"
	change "{\"op\":\"remove\",\"id\":$l}"
	expected=$(jq -cn --argjson a "$a" --argjson b "$b" '[$a,$b] | sort')
	wait_until 15 leader_voters_are "$expected" || show_all
	[ "$(current_leader)" != "$l" ]
	status_of "$l" | jq -e '.removed and .role == "follower"'
	workload_wait
	status_of "$l" | jq -e '.removed and .role == "follower"'
	echo "$l" >"$BATS_FILE_TMPDIR/removed-leader"
}

@test "replace a node (remove, new empty node at the same address joins) while a workload runs" {
	[ "$RAFTKV_BACKEND" = local ] || skip "needs the local cluster of the tests before"
	old=$(cat "$BATS_FILE_TMPDIR/removed-leader")
	read -r a b <<<"$(for i in 0 1 2; do [ "$i" != "$old" ] && echo -n "$i "; done)"
	WL_SECONDS=20 workload_start replace "$a" "$b"
	# the removed leader's machine comes back empty and joins: three voters again
	stop_agent "$old"
	start_joiner "$old"
	wait_until 20 leader_voters_are "[0,1,2]" || show_all
	# then replace follower b by a new node in its place (remove, wipe, join)
	change "{\"op\":\"remove\",\"id\":$b}"
	stop_agent "$b"
	start_joiner "$b"
	wait_until 20 leader_voters_are "[0,1,2]" || show_all
	status_of "$b" | jq -e '.membership == "voter"'
	workload_wait
}

# raftkv-workload's member nemesis: remove, add back, replace (wipe a
# --join node through its agent: it rejoins by itself) at random, never
# below a majority of the starting five, the history checked linearizable;
# at the end every node is a member again.
@test "the workload's member nemesis on five nodes is linearizable" {
	[ "$RAFTKV_BACKEND" = local ] || skip "needs the local cluster of the tests before"
	start_joiner 3
	wait_until 20 leader_voters_are "[0,1,2,3]" || show_all
	start_joiner 4
	wait_until 20 leader_voters_are "[0,1,2,3,4]" || show_all
	urls="" agents=""
	for i in 0 1 2 3 4; do urls+="${urls:+,}$(node_url "$i")"; agents+="${agents:+,}$(agent_url "$i")"; done
	run "$BINDIR/raftkv-workload" --nodes "$urls" --agents "$agents" ${TOKEN:+--admin-token "$TOKEN"} \
		--key-prefix member- --clients 6 --keys 4 --rate 500 --duration 16 --timeout-ms 1500 \
		--nemesis member --nemesis-interval 2 --check --quiet \
		--history "$BATS_FILE_TMPDIR/member.jsonl" --nemesis-log "$BATS_FILE_TMPDIR/member.nemesis"
	echo "$output" | tail -n 20
	cat "$BATS_FILE_TMPDIR/member.nemesis"
	[ "$status" -eq 0 ]
	[ "$(grep -c '"event":"start"' "$BATS_FILE_TMPDIR/member.nemesis")" -ge 2 ]
	run "$BINDIR/raftkv-check" "$BATS_FILE_TMPDIR/member.jsonl"
	[ "$status" -eq 0 ]
	wait_until 15 leader_voters_are "[0,1,2,3,4]" || show_all
}
