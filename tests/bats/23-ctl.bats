#!/usr/bin/env bats
# raftkv-ctl: everyday use and cluster-wide faults, with exit codes a script can use.

load helpers

setup_file() { cluster_up 3; }
teardown_file() { cluster_down; }
teardown() { heal_all; }

ctl() {
	local i n="" a=""
	for ((i = 0; i < CLUSTER_N; i++)); do
		n+="${n:+,}$(node_url "$i")"
		a+="${a:+,}$(agent_url "$i")"
	done
	"$BINDIR/raftkv-ctl" --nodes "$n" --agents "$a" ${TOKEN:+--token "$TOKEN"} "$@"
}

@test "ctl: put, get, cas, append, del with scriptable exit codes" {
	wait_leader 15 >/dev/null
	run ctl put color red
	[ "$status" -eq 0 ]
	run ctl get color
	[ "$status" -eq 0 ]
	[ "$output" = red ]
	run ctl cas color blue green
	[ "$status" -eq 1 ]
	run ctl cas color red green
	[ "$status" -eq 0 ]
	run ctl cas fresh - first
	[ "$status" -eq 0 ]
	run ctl append list "a "
	[ "$status" -eq 0 ]
	run ctl append list "b "
	run ctl get list
	[ "$output" = "a b " ]
	run ctl del color
	[ "$status" -eq 0 ]
	run ctl get color
	[ "$status" -eq 1 ]
	run ctl frobnicate
	[ "$status" -eq 2 ]
	run ctl --help
	[ "$status" -eq 0 ]
}

@test "ctl: status shows every node and the faults set with partition, then heal clears them" {
	wait_leader 15 >/dev/null
	run ctl status --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq 'length')" -eq 3 ]
	[ "$(echo "$output" | jq '[.[] | select(.role == "leader")] | length')" -eq 1 ]
	run ctl partition 0,1/2
	[ "$status" -eq 0 ]
	run ctl status --json
	echo "$output" | jq -e '.[2].faults.partition != null'
	run ctl status
	[ "$status" -eq 0 ]
	[[ "$output" == *partition* ]]
	run ctl heal
	[ "$status" -eq 0 ]
	run ctl status --json
	echo "$output" | jq -e '[.[] | .faults | length] | add == 0'
}

@test "ctl: kill and start through the agents; isolate-leader moves leadership" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	run ctl kill "$f"
	[ "$status" -eq 0 ]
	[ "$(curl -s "$(agent_url "$f")/agent/status" | jq -r .state)" = stopped ]
	run ctl start "$f"
	[ "$status" -eq 0 ]
	wait_until 20 curl -fs "$(node_url "$f")/readyz"
	run ctl isolate-leader 3000
	[ "$status" -eq 0 ]
	a=$(other_node "$l")
	wait_until 15 bash -c "curl -s $(node_url "$a")/admin/status | jq -e '.leader != null and .leader != $l'"
}
