#!/usr/bin/env bats
# The node issue's integration tests on a 3-node cluster: election, writes
# through any node, leader kill, catch-up after restart, majority loss.

load helpers

setup_file() { cluster_up 3; }
teardown_file() { cluster_down; }

@test "a single leader is elected and every node agrees on it and the term" {
	l=$(wait_leader 15)
	for i in 0 1 2; do
		run status_of "$i"
		[ "$(echo "$output" | jq -r .leader)" = "$l" ]
	done
	terms=$(for i in 0 1 2; do status_of "$i" | jq -r .term; done | sort -u | wc -l)
	[ "$terms" -eq 1 ]
}

@test "a write through a follower is readable from every node" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	kv_put "$f" greeting hello
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -r .key)" = greeting ]
	[ "$(echo "$body" | jq -r .index)" -gt 0 ]
	for i in 0 1 2; do
		kv_get "$i" greeting
		[ "$status_code" = 200 ]
		[ "$(echo "$body" | jq -r .value)" = hello ]
	done
	# each consistency level answers
	for c in linearizable log stale; do
		kv_get "$f" greeting "$c"
		[ "$status_code" = 200 ]
	done
}

@test "absent keys are 404 with a null value; every response names node, term and leader" {
	run curl -s -i "$(node_url 0)/kv/never-written"
	[[ "$output" == *"404"* ]]
	[[ "$output" == *'"value":null'* ]]
	[[ "$output" == *"X-Raft-Node: 0"* ]]
	[[ "$output" == *"X-Raft-Term:"* ]]
	[[ "$output" == *"X-Raft-Leader:"* ]]
}

@test "delete, cas, append and txn follow the contract" {
	wait_leader 15 >/dev/null
	http PUT "$(node_url 1)/kv/c" 1
	[ "$status_code" = 200 ]
	http POST "$(node_url 2)/kv/c/cas" '{"from":"1","to":"2"}'
	[ "$status_code" = 200 ]
	http POST "$(node_url 0)/kv/c/cas" '{"from":"1","to":"3"}'
	[ "$status_code" = 409 ]
	[ "$(echo "$body" | jq -r .value)" = 2 ]
	http POST "$(node_url 0)/kv/fresh/cas" '{"from":null,"to":"x"}'
	[ "$status_code" = 200 ]
	http POST "$(node_url 0)/kv/fresh/cas" '{"from":null,"to":"y"}'
	[ "$status_code" = 409 ]
	http POST "$(node_url 1)/kv/l/append" "a "
	[ "$status_code" = 200 ]
	http POST "$(node_url 2)/kv/l/append" "b "
	kv_get 0 l
	[ "$(echo "$body" | jq -r .value)" = "a b " ]
	http POST "$(node_url 0)/txn" '{"ops":[["r","l",null],["append","l","c "],["w","t","1"],["r","t",null]]}'
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -c .ops)" = '[["r","l","a b "],["append","l","c "],["w","t","1"],["r","t","1"]]' ]
	http DELETE "$(node_url 2)/kv/c"
	[ "$status_code" = 200 ]
	kv_get 1 c
	[ "$status_code" = 404 ]
}

@test "goraft-compatible /set and /get work" {
	http GET "$(node_url 1)/set?key=g&value=goraft"
	[ "$status_code" = 200 ]
	http GET "$(node_url 2)/get?key=g"
	[ "$status_code" = 200 ]
	[[ "$body" == *goraft* ]]
	http GET "$(node_url 0)/get?key=g&relaxed=true"
	[ "$status_code" = 200 ]
}

@test "kill -9 of the leader elects a new one and loses no acknowledged write" {
	write_many before-kill 30
	l=$(wait_leader 15)
	kill_node "$l"
	nl=$(wait_leader 15 "$l")
	[ "$nl" != "$l" ]
	write_many after-kill 10
	f=$(other_node "$l" "$nl")
	check_acked_on "$nl"
	check_acked_on "$f"
	start_node "$l"
	wait_until 20 curl -fs "$(node_url "$l")/readyz"
	check_acked_on "$l"
}

@test "a restarted follower catches up on what it missed" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	kill_node "$f"
	write_many while-down 25
	start_node "$f"
	wait_until 20 curl -fs "$(node_url "$f")/readyz"
	# stale reads on the restarted node show everything once it caught up
	catch_up() {
		local k v
		while read -r k v; do
			kv_get "$f" "$k" stale
			[ "$(echo "$body" | jq -r .value)" = "$v" ] || return 1
		done <"$BATS_FILE_TMPDIR/acked"
	}
	wait_until 20 catch_up
}

@test "with a majority down writes answer 503 or 504, and nothing acknowledged is lost when it returns" {
	l=$(wait_leader 15)
	a=$(other_node "$l")
	b=$(other_node "$l" "$a")
	kill_node "$a"
	kill_node "$b"
	HTTP_TIMEOUT=15
	for i in 1 2 3; do
		kv_put "$l" minority-$i x
		[ "$status_code" = 503 ] || [ "$status_code" = 504 ]
	done
	HTTP_TIMEOUT=8
	start_node "$a"
	start_node "$b"
	wait_leader 20 >/dev/null
	for i in 0 1 2; do wait_until 20 curl -fs "$(node_url "$i")/readyz"; done
	for i in 0 1 2; do check_acked_on "$i"; done
	kv_put "$a" after-majority ok
	[ "$status_code" = 200 ]
}
