#!/usr/bin/env bats
# Membership changes through POST /admin/members (contract section 3): each
# answered once committed; refused requests get a clear 4xx and change
# nothing. Node ids are the cluster's 0..4.

load helpers

setup_file() { cluster_up 5; }
teardown_file() { cluster_down; }

nodes() { local i s=""; for ((i = 0; i < CLUSTER_N; i++)); do s+="${s:+,}$(node_url "$i")"; done; echo "$s"; }
members_of() { curl -s -m 3 ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(node_url "$1")/admin/members"; }
voters_of() { members_of "$1" | jq -c '[.members[] | select(.voter) | .id] | sort'; }
change() { http POST "$(node_url "$1")/admin/members" "$2"; } # NODE BODY

@test "members: bad requests get a clear 4xx and change nothing" {
	l=$(wait_leader 20)
	before=$(members_of "$l" | jq -c '[.members[] | {id, voter}]')
	change "$l" '{"op":"remove","id":42}'
	[ "$status_code" = 404 ]
	[[ "$body" == *"No member has this id"* ]]
	change "$l" '{"op":"add","id":1,"raft":"127.0.0.1:1"}'
	[ "$status_code" = 409 ]
	raft0=$(members_of "$l" | jq -r '.members[] | select(.id==0) | .raft')
	change "$l" "{\"op\":\"add\",\"id\":9,\"raft\":\"$raft0\"}"
	[ "$status_code" = 409 ]
	[[ "$body" == *"already has this raft address"* ]]
	change "$l" '{"op":"promote","id":1}'
	[ "$status_code" = 409 ]
	change "$l" '{"op":"explode","id":1}'
	[ "$status_code" = 400 ]
	change "$l" '{"op":"add","id":9}'
	[ "$status_code" = 400 ]
	change "$l" 'not json'
	[ "$status_code" = 400 ]
	f=$(other_node "$l")
	change "$f" '{"op":"remove","id":1}'
	[ "$status_code" = 503 ]
	after=$(members_of "$l" | jq -c '[.members[] | {id, voter}]')
	[ "$before" = "$after" ]
	[ "$(status_of "$l" | jq '.members | length')" = 5 ]
	[ "$(status_of "$l" | jq '[.members[] | select(.voter and (.match_index != null))] | length')" = 5 ]
}

@test "members: raftkv-ctl member list, and a refused change exits 1" {
	wait_leader 20 >/dev/null
	run "$BINDIR/raftkv-ctl" --nodes "$(nodes)" ${TOKEN:+--token "$TOKEN"} member list
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c ' voter ')" = 5 ]
	run "$BINDIR/raftkv-ctl" --nodes "$(nodes)" ${TOKEN:+--token "$TOKEN"} member promote 1
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *409* ]]
	run "$BINDIR/raftkv-ctl" --nodes "$(nodes)" ${TOKEN:+--token "$TOKEN"} member remove 42
	[ "$status" -eq 1 ]
	run "$BINDIR/raftkv-ctl" --nodes "$(nodes)" member frobnicate
	[ "$status" -eq 2 ]
}

@test "members: two changes at once: one is made, the other refused with 409" {
	l=$(wait_leader 20)
	a=$(other_node "$l")
	b=$(other_node "$l" "$a")
	out=$BATS_TEST_TMPDIR
	curl -s -m 10 -o "$out/a" -w '%{http_code}' -X POST --data-binary "{\"op\":\"remove\",\"id\":$a}" "$(node_url "$l")/admin/members" >"$out/a.code" &
	curl -s -m 10 -o "$out/b" -w '%{http_code}' -X POST --data-binary "{\"op\":\"remove\",\"id\":$b}" "$(node_url "$l")/admin/members" >"$out/b.code" &
	wait
	codes=$(cat "$out/a.code" "$out/b.code" | sort | tr '\n' ' ')
	echo "codes: $codes"
	[ "$codes" = "200 409 " ]
	[ "$(voters_of "$l" | jq length)" = 4 ]
}

@test "members: shrink to 3, then remove the leader, while a checked workload runs" {
	l=$(wait_leader 20)
	"$BINDIR/raftkv-workload" --nodes "$(nodes)" ${TOKEN:+--admin-token "$TOKEN"} \
		--key-prefix shrink- --clients 6 --keys 4 --duration 14 --timeout-ms 1500 --check --quiet \
		--history "$BATS_FILE_TMPDIR/shrink.jsonl" >"$BATS_FILE_TMPDIR/shrink.out" 2>&1 &
	wl=$!
	sleep 2
	# down to three voters (one was removed by the previous test)
	v=$(voters_of "$l" | jq -r --arg l "$l" '[.[] | select(. != ($l|tonumber))][0]')
	change "$l" "{\"op\":\"remove\",\"id\":$v}"
	echo "$body"
	[ "$status_code" = 200 ]
	[ "$(voters_of "$l" | jq length)" = 3 ]
	sleep 2
	# the leader removes itself: answered once committed, then it steps down
	change "$l" "{\"op\":\"remove\",\"id\":$l}"
	echo "$body"
	[ "$status_code" = 200 ]
	nl=$(wait_leader 20 "$l")
	[ "$nl" != "$l" ]
	[ "$(voters_of "$nl" | jq length)" = 2 ]
	[ "$(status_of "$l" | jq -r .role)" != leader ]
	wait "$wl"
	rc=$?
	tail -n 20 "$BATS_FILE_TMPDIR/shrink.out"
	[ "$rc" -eq 0 ]
	[ "$(grep -c '"ok"' "$BATS_FILE_TMPDIR/shrink.jsonl")" -gt 50 ]
	run "$BINDIR/raftkv-check" "$BATS_FILE_TMPDIR/shrink.jsonl"
	[ "$status" -eq 0 ]
	kv_put "$nl" after-shrink 1
	[ "$status_code" = 200 ]
}
