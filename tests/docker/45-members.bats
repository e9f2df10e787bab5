#!/usr/bin/env bats
# Membership changes on the compose cluster (issue 12, the Docker half of
# tests/bats/27-grow-shrink.bats), each while raftkv-workload runs with
# --check and its history is checked again by raftkv-check:
#   - grow 3 → 5 with the spare services n4, n5 (docker-compose.spares.yml,
#     profile "spares"), which start empty with `--join http://n1:2020`, are
#     added as learners and promoted once caught up;
#   - shrink 5 → 3 (remove both, their containers and volumes go);
#   - remove the leader: it steps down and says it was removed;
#   - replace a node: a new machine in the removed leader's place (same name,
#     address and ports, an empty volume) joins with --join; and a follower
#     wiped in place (/agent/wipe) is replaced by the leader on its own
#     (remove the old life, add the new one as a learner, promote).
# The workload's clients talk only to nodes that stay members throughout.
# The file ends as it began: ids 0-2 the voters on n1-n3, every node ready,
# no spare container or volume left; then the cluster is torn down like in
# every file of the suite.

load ../bats/helpers
load ../bats/members

setup_file() {
	[ "$RAFTKV_BACKEND" = docker ] || skip "Docker backend only (RAFTKV_BACKEND=docker)"
	cluster_up 3 # its compose override gives the spares the suite's flags too
}
spares_rm() { # the spare containers and their volumes, if any
	compose 3 --profile spares rm -sfv n4 n5 >/dev/null 2>&1 || true
	docker volume rm "${RAFTKV_PROJECT}_n4-data" "${RAFTKV_PROJECT}_n5-data" >/dev/null 2>&1 || true
}
teardown_file() {
	[ "$RAFTKV_BACKEND" = docker ] || return 0
	spares_rm
	cluster_down
}
teardown() {
	[ "$RAFTKV_BACKEND" = docker ] || return 0
	[ -z "${WL_PID:-}" ] || kill "$WL_PID" 2>/dev/null || true
	docker_heal
	heal_all
}

# Only what this file may do on a shared machine: a cluster already changed
# by an earlier test of this file is expected, anything else fails loudly.
three_voters() { leader_voters_are "[0,1,2]"; }
running() { [ "$(docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" = running ]; }
inc_of() { status_of "$1" | jq -r .incarnation; }

@test "members (docker): grow 3 → 5 with the spares n4, n5 (--join) while a workload runs" {
	l=$(wait_leader 30)
	wait_until 10 three_voters || show_all
	kv_put "$l" before-grow yes
	[ "$status_code" = 200 ]
	! running n4
	! running n5
	workload_start dgrow 0 1 2
	run compose 3 --profile spares up -d n4 n5
	echo "$output"
	[ "$status" -eq 0 ]
	wait_until 40 leader_voters_are "[0,1,2,3,4]" || show_all
	workload_wait
	for i in 3 4; do
		status_of "$i" | jq -e '.membership == "voter" and .join and .applied_index > 0'
		wait_node_ready "$i" 20
	done
	# they joined through n1 and learnt every member's address
	docker exec n4 grep -q 'join: node 3 is a member' /var/lib/raftkv/node.log
	status_of 4 | jq -e '(.members | length) == 5 and all(.members[]; .raft != null)'
	# a read on a new node sees a write made before it joined
	kv_get 4 before-grow
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -r .value)" = yes ]
	# and a write through one is read on a bootstrap node
	kv_put 3 after-grow 5
	[ "$status_code" = 200 ]
	kv_get 0 after-grow
	[ "$(echo "$body" | jq -r .value)" = 5 ]
}

@test "members (docker): shrink 5 → 3 while a workload runs; the spares go" {
	leader_voters_are "[0,1,2,3,4]" || show_all
	workload_start dshrink 0 1 2
	change '{"op":"remove","id":3}'
	change '{"op":"remove","id":4}'
	wait_until 15 leader_voters_are "[0,1,2]" || show_all
	for i in 3 4; do wait_until 10 sh -c "curl -s -m 2 '$(node_url "$i")/admin/status' | jq -e '.removed and .membership == \"removed\"' >/dev/null"; done
	workload_wait
	# a removed node restarted with its volume stays out and says why
	docker restart -t 10 n4 >/dev/null
	wait_until 30 curl -s -m 1 -o /dev/null "$(node_url 3)/healthz"
	status_of 3 | jq -e '.removed and (.removed_note | test("wipe its data dir and start it with --join"))'
	kv_put 3 from-removed 1
	[ "$status_code" = 503 ]
	echo "$body" | jq -e '.error == "removed"'
	docker exec n4 grep -q 'removed: node 3 was removed from the cluster' /var/lib/raftkv/node.log
	spares_rm
	! running n4
	! running n5
	run docker volume inspect "${RAFTKV_PROJECT}_n4-data"
	[ "$status" -ne 0 ]
	wait_leader 20 >/dev/null
	three_voters
	for i in 0 1 2; do wait_node_ready "$i" 20; done
}

@test "members (docker): remove the leader while a workload runs; it steps down, the other two go on" {
	wait_until 10 three_voters || show_all
	l=$(current_leader)
	[ -n "$l" ]
	read -r a b <<<"$(for i in 0 1 2; do [ "$i" != "$l" ] && echo -n "$i "; done)"
	workload_start drmleader "$a" "$b"
	change "{\"op\":\"remove\",\"id\":$l}"
	expected=$(jq -cn --argjson a "$a" --argjson b "$b" '[$a,$b] | sort')
	wait_until 20 leader_voters_are "$expected" || show_all
	[ "$(current_leader)" != "$l" ]
	workload_wait
	status_of "$l" | jq -e '.removed and .membership == "removed" and .role == "follower"'
	# it stays quiet: the others' term does not move
	n=$(current_leader)
	t=$(status_of "$n" | jq .term)
	sleep 2
	[ "$(status_of "$n" | jq .term)" = "$t" ]
	[ "$(current_leader)" = "$n" ]
	echo "$l" >"$BATS_FILE_TMPDIR/removed-leader"
}

@test "members (docker): replace a node while a workload runs: a new machine in the removed leader's place joins with --join" {
	old=$(cat "$BATS_FILE_TMPDIR/removed-leader")
	read -r a b <<<"$(for i in 0 1 2; do [ "$i" != "$old" ] && echo -n "$i "; done)"
	status_of "$old" | jq -e '.removed'
	WL_SECONDS=16 workload_start dreplace "$a" "$b"
	# A removed node never votes again with its old data dir; its place is
	# taken by a new machine (same name, address, ports; an empty volume)
	# that joins through a member, is added as a learner and promoted.
	docker_rejoin "$old" "$a"
	wait_until 40 leader_voters_are "[0,1,2]" || show_all
	wait_until 20 membership_is "$old" voter || show_all
	status_of "$old" | jq -e '.join and (.removed | not)'
	workload_wait
	wait_node_ready "$old" 30
	kv_put "$old" after-replace 1
	[ "$status_code" = 200 ]
	kv_get "$a" after-replace
	[ "$(echo "$body" | jq -r .value)" = 1 ]
	echo "$old" >"$BATS_FILE_TMPDIR/rejoined"
}

@test "members (docker): a follower wiped in place is replaced by the leader on its own while a workload runs" {
	wait_until 10 three_voters || show_all
	l=$(current_leader)
	[ -n "$l" ]
	# a bootstrap node (--cluster) other than the leader: its old life is a
	# member with incarnation 0
	f=$(other_node "$l" "$(cat "$BATS_FILE_TMPDIR/rejoined")") || f=$(other_node "$l")
	read -r a b <<<"$(for i in 0 1 2; do [ "$i" != "$f" ] && echo -n "$i "; done)"
	inc_f=$(inc_of "$f")
	WL_SECONDS=16 workload_start dwipe "$a" "$b"
	kill_node "$f"
	wait_until 10 agent_not_running "$f"
	agent_post "$f" wipe
	start_node "$f"
	# remove the old life, add the new one as a learner, promote: no request
	wait_until 40 sh -c "curl -s -m 2 '$(node_url "$f")/admin/status' | jq -e --arg i '$inc_f' '.membership == \"voter\" and .incarnation != \$i' >/dev/null" || show_all
	wait_until 10 three_voters || show_all
	workload_wait
	# as found: three voters, each ready with current data
	for i in 0 1 2; do wait_node_ready "$i" 30; done
	kv_put "$f" after-wipe 2
	[ "$status_code" = 200 ]
	for i in 0 1 2; do
		kv_get "$i" after-wipe
		[ "$(echo "$body" | jq -r .value)" = 2 ]
	done
}
