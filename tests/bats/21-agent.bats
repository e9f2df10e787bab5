#!/usr/bin/env bats
# Process and disk faults through the agent (contract section 4).

load helpers

setup_file() { cluster_up 3; }
teardown_file() { cluster_down; }


@test "agent status, pause and resume" {
	run curl -s ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(agent_url 0)/agent/status"
	echo "$output" | jq -e '.pid > 0 and .state == "running" and has("restarts")'
	agent_post 1 pause >/dev/null
	[ "$(agent_state 1)" = paused ]
	agent_post 1 resume >/dev/null
	[ "$(agent_state 1)" = running ]
	run curl -s ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(agent_url 0)/agent/logs"
	[ "$status" -eq 0 ]
}

@test "kill and restart under load lose nothing acknowledged" {
	wait_leader 15 >/dev/null
	write_many load 20 &
	writer=$!
	for round in 1 2 3; do
		victim=$((round % 3))
		kill_node "$victim"
		[ "$(agent_state "$victim")" = stopped ]
		sleep 0.5
		start_node "$victim"
		[ "$(agent_state "$victim")" = running ]
		sleep 0.5
	done
	wait "$writer"
	write_many load2 10
	for i in 0 1 2; do wait_until 20 curl -fs "$(node_url "$i")/readyz"; done
	for i in 0 1 2; do check_acked_on "$i"; done
}

@test "corrupt and wipe are refused while the node runs" {
	run curl -s -o /dev/null -w '%{http_code}' ${TOKEN:+-H "Authorization: Bearer $TOKEN"} -X POST --data-binary '{"target":"wal","mode":"bitflip","count":1}' "$(agent_url 2)/agent/corrupt"
	[ "$output" = 409 ]
	run curl -s -o /dev/null -w '%{http_code}' ${TOKEN:+-H "Authorization: Bearer $TOKEN"} -X POST "$(agent_url 2)/agent/wipe"
	[ "$output" = 409 ]
}

@test "a bit flip in the middle of the WAL is detected on restart and never served" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	write_many flip 20
	kill_node "$f"
	run agent_post "$f" corrupt '{"target":"wal","mode":"bitflip","count":1,"where":"middle"}'
	echo "$output"
	start_node "$f"
	wait_until 10 agent_state_is "$f" exited
	curl -s ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(agent_url "$f")/agent/logs" | grep -i corrupt
	! curl -fs -m 1 "$(node_url "$f")/healthz"
	# wipe: the node comes back empty and catches up from its peers
	agent_post "$f" wipe >/dev/null
	start_node "$f"
	wait_until 30 curl -fs "$(node_url "$f")/readyz"
	check_acked_on "$f"
}
