#!/usr/bin/env bats
# Faults that only Docker can make: a real network partition (docker network
# disconnect), SIGKILL of the whole container, docker restart (SIGTERM through the
# agent as PID 1), and the cgroup freezer (docker pause). Run by tests/docker/run.sh
# with RAFTKV_BACKEND=docker; every test leaves the cluster healed.

load ../bats/helpers

setup_file() {
	[ "$RAFTKV_BACKEND" = docker ] || skip "Docker backend only (RAFTKV_BACKEND=docker)"
	cluster_up 3
}
teardown_file() { cluster_down; }
teardown() {
	docker_heal
	heal_all
	local i
	for ((i = 0; i < CLUSTER_N; i++)); do wait_node_ready "$i" 30 || true; done
}

others_of() { other_node "$1"; other_node "$1" "$(other_node "$1")"; }

stale_value() { # I KEY
	curl -s -m 2 "$(node_url "$1")/kv/$2?consistency=stale" | jq -r .value
}
stale_is() { [ "$(stale_value "$1" "$2")" = "$3" ]; } # I KEY VALUE
role_of() { status_of "$1" | jq -r .role; }
role_is() { [ "$(role_of "$1")" = "$2" ]; }          # I ROLE
not_both_leaders() { ! role_is "$1" leader || ! role_is "$2" leader; }

@test "the agent is PID 1, runs the node as its child and leaves no zombies" {
	run docker exec n1 cat /proc/1/cmdline
	[[ "$output" == raftkv-agent* ]]
	run docker exec n1 id -u
	[ "$output" != 0 ]
	wait_leader 20 >/dev/null
	for round in 1 2; do
		kill_node 0
		sleep 0.3
		start_node 0
		wait_node_ready 0 30
	done
	run docker exec n1 sh -c 'grep -l "^State:[[:space:]]*Z" /proc/[0-9]*/status 2>/dev/null | wc -l'
	[ "$output" -eq 0 ]
	[ "$(docker inspect -f '{{.State.Health.Status}}' n1)" != unhealthy ]
}

@test "docker network disconnect of the leader: the majority elects a leader and takes writes; after reconnect the node catches up" {
	l=$(wait_leader 20)
	mapfile -t rest < <(others_of "$l")
	kv_put "$l" part-before 1
	[ "$status_code" = 200 ]
	net_disconnect "$l"
	nl=$(wait_leader_among 20 "${rest[@]}")
	[ "$nl" != "$l" ]
	for j in $(seq 1 10); do
		kv_put "${rest[$((j % 2))]}" "part-$j" "v$j"
		[ "$status_code" = 200 ]
		echo "part-$j v$j" >>"$BATS_FILE_TMPDIR/acked"
	done
	net_connect "$l"
	# the old leader steps down and catches up: its own state has every write
	wait_until 30 stale_is "$l" part-10 v10
	wait_until 20 not_both_leaders "$l" "$nl"
	wait_node_ready "$l" 30
	[ "$(stale_value "$l" part-before)" = 1 ]
	for j in $(seq 1 10); do [ "$(stale_value "$l" "part-$j")" = "v$j" ]; done
	check_acked_on "$l"
}

@test "docker network disconnect of a follower: the leader keeps leading and the follower catches up" {
	l=$(wait_leader 20)
	f=$(other_node "$l")
	net_disconnect "$f"
	for j in $(seq 1 10); do
		kv_put "$l" "fpart-$j" "w$j"
		[ "$status_code" = 200 ]
		echo "fpart-$j w$j" >>"$BATS_FILE_TMPDIR/acked"
	done
	mapfile -t rest < <(others_of "$f")
	[ "$(leader_among "${rest[@]}")" = "$l" ]
	net_connect "$f"
	wait_until 30 stale_is "$f" fpart-10 w10
	wait_node_ready "$f" 30
	check_acked_on "$f"
}

@test "docker kill and docker start of the leader under writes lose no acknowledged write" {
	l=$(wait_leader 20)
	write_many kill 30 &
	writer=$!
	sleep 0.5
	docker_kill "$l"
	[ "$(docker inspect -f '{{.State.Status}}' "$(container_of "$l")")" = exited ]
	mapfile -t rest < <(others_of "$l")
	nl=$(wait_leader_among 20 "${rest[@]}")
	[ "$nl" != "$l" ]
	wait "$writer"
	docker_start "$l"
	wait_node_ready "$l" 30
	write_many kill2 10
	for i in 0 1 2; do wait_node_ready "$i" 30; done
	for i in 0 1 2; do check_acked_on "$i"; done
}

@test "docker restart: the agent forwards SIGTERM, the node stops promptly and comes back with its data" {
	l=$(wait_leader 20)
	f=$(other_node "$l")
	write_many restart 10
	t0=$SECONDS
	docker_restart "$f"
	# docker restart waits 10 s before SIGKILL: a prompt stop means SIGTERM reached the node
	[ $((SECONDS - t0)) -lt 8 ]
	wait_node_ready "$f" 30
	for i in 0 1 2; do check_acked_on "$i"; done
	docker logs "$(container_of "$f")" 2>&1 | tail -n 20
}

@test "docker pause of the leader: the others elect a leader; after unpause the old leader steps down" {
	l=$(wait_leader 20)
	t_old=$(status_of "$l" | jq -r .term)
	mapfile -t rest < <(others_of "$l")
	docker_pause "$l"
	nl=$(wait_leader_among 20 "${rest[@]}")
	[ "$nl" != "$l" ]
	kv_put "$nl" during-freeze yes
	[ "$status_code" = 200 ]
	echo "during-freeze yes" >>"$BATS_FILE_TMPDIR/acked"
	t_new=$(status_of "$nl" | jq -r .term)
	[ "$t_new" -gt "$t_old" ]
	docker_unpause "$l"
	wait_until 20 role_is "$l" follower
	[ "$(status_of "$l" | jq -r .term)" -ge "$t_new" ]
	wait_node_ready "$l" 30
	kv_get "$l" during-freeze
	[ "$(echo "$body" | jq -r .value)" = yes ]
	wait_leader 20 >/dev/null
}
