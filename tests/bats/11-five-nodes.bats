#!/usr/bin/env bats
# A 5-node cluster tolerates two failures.

load helpers

setup_file() { cluster_up 5; }
teardown_file() { cluster_down; }

@test "5 nodes: a leader is elected, writes replicate, and two dead nodes are tolerated" {
	l=$(wait_leader 20)
	a=$(other_node "$l")
	kv_put "$a" five 5
	[ "$status_code" = 200 ]
	for i in 0 1 2 3 4; do
		kv_get "$i" five
		[ "$(echo "$body" | jq -r .value)" = 5 ]
	done
	b=$(other_node "$l" "$a")
	kill_node "$l"
	kill_node "$b"
	nl=$(wait_leader 20 "$l")
	c=$(other_node "$l" "$b" "$nl")
	kv_put "$c" five 6
	[ "$status_code" = 200 ]
	kv_get "$nl" five
	[ "$(echo "$body" | jq -r .value)" = 6 ]
}
