#!/usr/bin/env bats
# What a Jepsen client needs from the node (issue 13): faults healed one kind
# at a time, a crash request that is answered, and bug switches that reach
# POST /txn, shown by the checker on a history recorded from /txn answers.

load helpers

setup_file() { cluster_up 3; }
teardown_file() { cluster_down; }
teardown() { heal_all; }

partition_alone() { # NODE: the node alone against the other two
	local x=$1 groups others=()
	for i in 0 1 2; do [ "$i" != "$x" ] && others+=("$i"); done
	groups="{\"groups\":[[${x}],[${others[0]},${others[1]}]]}"
	for i in 0 1 2; do admin_post "$i" /admin/faults/partition "$groups" >/dev/null; done
}

# txn NODE BODY → $status_code, $body
txn() { HTTP_TIMEOUT=${HTTP_TIMEOUT:-8} http POST "$(node_url "$1")/txn" "$2"; }

# ---- a history in the contract's format (section 5), one event per call
H() { echo "$BATS_TEST_TMPDIR/history.jsonl"; }
now_ns() { date +%s%N; }
record() { # PROCESS TYPE F KEY VALUE-JSON
	printf '{"process":%s,"type":"%s","f":"%s","key":"%s","value":%s,"time":%s}\n' \
		"$1" "$2" "$3" "$4" "$5" "$(now_ns)" >>"$(H)"
}
# The checker's verdict on the recorded history: 0 linearizable, 1 not.
check_history() {
	cat "$(H)"
	run "$BINDIR/raftkv-check" "$(H)"
	echo "raftkv-check: exit $status"
	echo "$output"
}

@test "DELETE /admin/faults/<kind> heals that kind alone, the others stay" {
	wait_leader 15 >/dev/null
	local kinds=(pause net partition clock disk)
	local bodies=('{}' '{"delay_ms":1}' '{"groups":[[0,1,2]]}' '{"offset_ms":1}' '{"delay_ms":1}')
	for healed in "${kinds[@]}"; do
		for i in "${!kinds[@]}"; do admin_post 2 "/admin/faults/${kinds[$i]}" "${bodies[$i]}" >/dev/null; done
		http DELETE "$(node_url 2)/admin/faults/$healed"
		[ "$status_code" = 200 ]
		for k in "${kinds[@]}"; do
			if [ "$k" = "$healed" ]; then
				echo "$body" | jq -e --arg k "$k" '.faults | has($k) | not'
			else
				echo "$body" | jq -e --arg k "$k" '.faults | has($k)'
			fi
		done
		status_of 2 | jq -e --arg k "$healed" '.faults | has($k) | not'
		http DELETE "$(node_url 2)/admin/faults"
	done
}

@test "healing only the partition lets an isolated node catch up while its clock fault stays" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	partition_alone "$f"
	admin_post "$f" /admin/faults/clock '{"offset_ms":2000}' >/dev/null
	kv_put "$l" healed-alone v1
	[ "$status_code" = 200 ]
	for i in 0 1 2; do http DELETE "$(node_url "$i")/admin/faults/partition"; [ "$status_code" = 200 ]; done
	wait_until 15 bash -c "curl -s '$(node_url "$f")/kv/healed-alone?consistency=stale' | jq -e '.value==\"v1\"'"
	status_of "$f" | jq -e '.faults | has("clock") and (has("partition") | not)'
}

@test "POST /admin/faults/crash answers 202 before the node dies" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	http POST "$(node_url "$f")/admin/faults/crash" '{}'
	echo "crash answer: $curl_rc $status_code $body"
	[ "$status_code" = 202 ]
	echo "$body" | jq -e '.faults.crash.lose_unsynced == false'
	wait_until 10 agent_state_is "$f" exited
	start_node "$f"
	wait_until 20 curl -fs "$(node_url "$f")/readyz"
}

@test "stale_reads reaches read-only /txn: the checker finds the stale read" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	record 0 invoke write tx '"old"'
	txn "$l" '{"ops":[["w","tx","old"]]}'
	[ "$status_code" = 200 ]
	record 0 ok write tx '"old"'
	wait_until 10 bash -c "curl -s '$(node_url "$f")/kv/tx?consistency=stale' | jq -e '.value==\"old\"'"
	partition_alone "$f"
	record 0 invoke write tx '"new"'
	txn "$l" '{"ops":[["w","tx","new"]]}'
	[ "$status_code" = 200 ]
	record 0 ok write tx '"new"'
	# without the switch the isolated node does not answer the read from its map
	HTTP_TIMEOUT=3 txn "$f" '{"ops":[["r","tx",null]]}'
	echo "safe read-only txn on the isolated node: $status_code"
	[ "$status_code" != 200 ]
	admin_post "$f" /admin/bugs '{"stale_reads":true}' >/dev/null
	record 1 invoke read tx null
	txn "$f" '{"ops":[["r","tx",null]]}'
	echo "with stale_reads: $status_code $body"
	[ "$status_code" = 200 ]
	record 1 ok read tx "$(echo "$body" | jq -c '.ops[0][2]')"
	check_history
	[ "$status" -eq 1 ]
}

@test "ack_before_commit reaches /txn: the checker finds the lost append" {
	l=$(wait_leader 15)
	record 0 invoke append ta '"seed "'
	txn "$l" '{"ops":[["append","ta","seed "]]}'
	[ "$status_code" = 200 ]
	record 0 ok append ta '"seed "'
	# the switch first, so the txn follows the partition at once, before
	# check-quorum makes the isolated leader step down
	admin_post "$l" /admin/bugs '{"ack_before_commit":true}' >/dev/null
	partition_alone "$l"
	record 1 invoke append ta '"lost "'
	HTTP_TIMEOUT=10 txn "$l" '{"ops":[["append","ta","lost "],["r","ta",null]]}'
	echo "isolated leader with ack_before_commit: $status_code $body"
	[ "$status_code" = 200 ]
	record 1 ok append ta '"lost "'
	a=$(other_node "$l")
	wait_until 15 bash -c "curl -s $(node_url "$a")/admin/status | jq -e '.leader != null and .leader != $l'"
	record 2 invoke read ta null
	txn "$a" '{"ops":[["r","ta",null]]}'
	echo "majority read: $status_code $body"
	[ "$status_code" = 200 ]
	record 2 ok read ta "$(echo "$body" | jq -c '.ops[0][2]')"
	check_history
	[ "$status" -eq 1 ]
}

@test "without bug switches the same /txn steps give a history the checker accepts" {
	l=$(wait_leader 15)
	record 0 invoke append tc '"seed "'
	txn "$l" '{"ops":[["append","tc","seed "]]}'
	[ "$status_code" = 200 ]
	record 0 ok append tc '"seed "'
	partition_alone "$l"
	record 1 invoke append tc '"maybe "'
	HTTP_TIMEOUT=10 txn "$l" '{"ops":[["append","tc","maybe "]]}'
	echo "isolated leader: $status_code $body"
	if [ "$status_code" = 200 ]; then record 1 ok append tc '"maybe "'
	elif [ "$status_code" = 503 ]; then record 1 fail append tc '"maybe "'
	else record 1 info append tc '"maybe "'; fi
	a=$(other_node "$l")
	wait_until 15 bash -c "curl -s $(node_url "$a")/admin/status | jq -e '.leader != null and .leader != $l'"
	record 2 invoke read tc null
	txn "$a" '{"ops":[["r","tc",null]]}'
	[ "$status_code" = 200 ]
	record 2 ok read tc "$(echo "$body" | jq -c '.ops[0][2]')"
	check_history
	[ "$status" -eq 0 ]
}
