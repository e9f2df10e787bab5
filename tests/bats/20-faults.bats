#!/usr/bin/env bats
# The fault layer through the admin API (contract section 3), on a 3-node cluster.

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

@test "fault endpoints report state, reject bad bodies and heal" {
	run admin_post 0 /admin/faults/net '{"drop_to":[1],"delay_ms":5}'
	status_of 0 | jq -e '.faults | length > 0'
	http POST "$(node_url 0)/admin/faults/net" '{"drop_probability":"lots"}'
	[ "$status_code" = 400 ]
	http POST "$(node_url 0)/admin/faults/clock" '{'
	[ "$status_code" = 400 ]
	http DELETE "$(node_url 0)/admin/faults"
	[ "$status_code" = 200 ]
	status_of 0 | jq -e '(.faults | length) == 0 or ([.faults[]] | all(. == null or . == false))'
	run admin_post 1 /admin/faults/net '{"drop_to":[0],"ms":300}'
	status_of 1 | jq -e '.faults.net != null'
	net_healed() { status_of 1 | jq -e '.faults.net == null or (.faults | has("net") | not)' >/dev/null; }
	wait_until 3 net_healed
}

@test "a leader partitioned into a minority: new leader, old leader's writes end 504, no acked write lost or applied twice" {
	l=$(wait_leader 15)
	http POST "$(node_url "$l")/kv/log/append" "seed "
	[ "$status_code" = 200 ]
	partition_alone "$l"
	# writes sent to the isolated leader straight away: it cannot commit them
	codes=()
	for i in 1 2 3; do
		HTTP_TIMEOUT=10 http POST "$(node_url "$l")/kv/log/append" "old$i "
		codes+=("$status_code")
		if [ "$status_code" = 503 ]; then echo "old$i" >>"$BATS_TEST_TMPDIR/not-applied"; fi
	done
	echo "codes to the isolated leader: ${codes[*]}"
	[ "${codes[0]}" = 504 ]
	for c in "${codes[@]}"; do [ "$c" = 504 ] || [ "$c" = 503 ]; done
	a=$(other_node "$l")
	nl=$(wait_leader 10 "$l" || true)
	# the majority side has a leader (leader_id may still see the stale one)
	wait_until 10 bash -c "curl -s $(node_url "$a")/admin/status | jq -e '.leader != null and .leader != $l'"
	for i in 1 2 3; do
		http POST "$(node_url "$a")/kv/log/append" "new$i "
		[ "$status_code" = 200 ]
	done
	heal_all
	wait_until 20 bash -c "[ \"\$(curl -s $(node_url "$l")/admin/status | jq -r .role)\" != leader ] || [ \"\$(curl -s $(node_url "$a")/admin/status | jq -r .leader)\" = $l ]"
	wait_until 20 curl -fs "$(node_url "$l")/readyz"
	for i in 0 1 2; do
		kv_get "$i" log
		v=$(echo "$body" | jq -r .value)
		echo "node $i: $v"
		for t in seed new1 new2 new3; do [ "$(grep -o "\b$t\b" <<<"$v" | wc -l)" -eq 1 ]; done
		for t in old1 old2 old3; do [ "$(grep -o "\b$t\b" <<<"$v" | wc -l)" -le 1 ]; done
		if [ -f "$BATS_TEST_TMPDIR/not-applied" ]; then
			while read -r t; do ! grep -q "\b$t\b" <<<"$v"; done <"$BATS_TEST_TMPDIR/not-applied"
		fi
	done
}

@test "pausing the leader elects another; on resume the old leader steps down" {
	l=$(wait_leader 15)
	run admin_post "$l" /admin/faults/pause '{}'
	status_of "$l" | jq -e '.faults.pause != null'
	a=$(other_node "$l")
	wait_until 15 bash -c "curl -s $(node_url "$a")/admin/status | jq -e '.role==\"leader\" or (.leader != null and .leader != $l)'"
	kv_put "$a" during-pause yes
	[ "$status_code" = 200 ]
	run admin_post "$l" /admin/faults/resume '{}'
	# a follower that knows the new leader: one that has just stepped down
	# knows none yet and would answer the read below 503
	wait_until 15 bash -c "curl -s $(node_url "$l")/admin/status | jq -e '.role==\"follower\" and .leader != null and .leader != $l'"
	kv_get "$l" during-pause
	[ "$(echo "$body" | jq -r .value)" = yes ]
}

@test "a frozen leader clock with lease_reads serves a stale read; ReadIndex under the same fault does not" {
	l=$(wait_leader 15)
	kv_put "$l" lease v1
	[ "$status_code" = 200 ]
	admin_post "$l" /admin/bugs '{"lease_reads":true}' >/dev/null
	admin_post "$l" /admin/faults/clock '{"freeze":true}' >/dev/null
	partition_alone "$l"
	a=$(other_node "$l")
	wait_until 15 bash -c "curl -s $(node_url "$a")/admin/status | jq -e '.leader != null and .leader != $l'"
	kv_put "$a" lease v2
	[ "$status_code" = 200 ]
	# the frozen leader still believes its lease: a stale read
	kv_get "$l" lease
	echo "lease read: $status_code $body"
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -r .value)" = v1 ]
	# same fault, default ReadIndex reads: no stale value, only an error
	curl -s -X DELETE "$(node_url "$l")/admin/bugs" >/dev/null
	HTTP_TIMEOUT=10 kv_get "$l" lease
	echo "readindex read: $status_code $body"
	[ "$status_code" != 200 ] || [ "$(echo "$body" | jq -r .value)" = v2 ]
}

@test "stale_reads: a partitioned follower serves a stale value" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	kv_put "$l" stale old
	[ "$status_code" = 200 ]
	wait_until 10 bash -c "curl -s '$(node_url "$f")/kv/stale?consistency=stale' | jq -e '.value==\"old\"'"
	partition_alone "$f"
	kv_put "$l" stale new
	[ "$status_code" = 200 ]
	admin_post "$f" /admin/bugs '{"stale_reads":true}' >/dev/null
	status_of "$f" | jq -e '.bugs.stale_reads == true'
	kv_get "$f" stale
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -r .value)" = old ]
}

crash_all_lose_unsynced() {
	for i in 0 1 2; do admin_post "$i" /admin/faults/crash '{"lose_unsynced":true}' >/dev/null || true; done
	for i in 0 1 2; do
		wait_until 10 agent_not_running "$i"
	done
	for i in 0 1 2; do start_node "$i"; done
	wait_leader 20 >/dev/null
	# every node knows the leader and has applied what it committed: a node
	# that has not heard from the new leader yet answers reads 503
	for i in 0 1 2; do wait_until 20 curl -fs "$(node_url "$i")/readyz"; done
}

@test "with fsync on, crashes that lose unsynced data never lose an acknowledged write" {
	wait_leader 15 >/dev/null
	kv_put 0 durable yes
	[ "$status_code" = 200 ]
	crash_all_lose_unsynced
	kv_get 1 durable
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -r .value)" = yes ]
}

@test "no_fsync plus crash with lose_unsynced makes an acknowledged write vanish" {
	wait_leader 15 >/dev/null
	for i in 0 1 2; do admin_post "$i" /admin/bugs '{"no_fsync":true}' >/dev/null; done
	kv_put 0 fragile yes
	[ "$status_code" = 200 ]
	crash_all_lose_unsynced
	kv_get 1 fragile
	echo "after crash: $status_code $body"
	[ "$status_code" = 404 ]
}
