#!/usr/bin/env bats
# Bad input of every kind gets a clear error and the node keeps serving.

load helpers

setup_file() { cluster_up 3; }
teardown_file() { cluster_down; }

alive() {
	curl -fs "$(node_url 0)/healthz" >/dev/null
}

@test "unknown path is 404 with an error and no value; wrong method is 405" {
	http GET "$(node_url 0)/nope"
	[ "$status_code" = 404 ]
	[ "$(echo "$body" | jq -r .error)" != null ]
	[ "$(echo "$body" | jq 'has("value")')" = false ]
	http PATCH "$(node_url 0)/kv/x" y
	[ "$status_code" = 405 ]
}

@test "bad JSON, bad cas bodies and invalid UTF-8 values are 400 and change nothing" {
	wait_leader 15 >/dev/null
	http POST "$(node_url 0)/kv/j/cas" '{"from":'
	[ "$status_code" = 400 ]
	http POST "$(node_url 0)/kv/j/cas" '{"from":1,"to":[]}'
	[ "$status_code" = 400 ]
	http POST "$(node_url 0)/txn" '{"ops":[["zz","x",null]]}'
	[ "$status_code" = 400 ]
	code=$(printf '\xff\xfe' | curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @- "$(node_url 0)/kv/u")
	[ "$code" = 400 ]
	kv_get 1 u
	[ "$status_code" = 404 ]
	kv_get 1 j
	[ "$status_code" = 404 ]
	[ "$(echo "$body" | jq -r .value)" = null ]
}

@test "oversized keys and values are 413" {
	key=$(head -c 2000 /dev/zero | tr '\0' k)
	http PUT "$(node_url 0)/kv/$key" v
	[ "$status_code" = 413 ]
	head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' v >"$BATS_TEST_TMPDIR/big"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$BATS_TEST_TMPDIR/big" "$(node_url 0)/kv/big")
	[ "$code" = 413 ]
	alive
}

@test "malformed HTTP and garbage on the HTTP and peer ports do not hurt the node" {
	printf 'GARBAGE / HTTP/9.9\r\n\r\n' | timeout 3 bash -c "cat >/dev/tcp/127.0.0.1/$((CLUSTER_BASE))" || true
	head -c 4096 /dev/urandom | timeout 3 bash -c "cat >/dev/tcp/127.0.0.1/$((CLUSTER_BASE))" || true
	head -c 65536 /dev/urandom | timeout 3 bash -c "cat >/dev/tcp/127.0.0.1/$(raft_port 0)" || true
	printf 'GET / HTTP/1.1\r\n\r\n' | timeout 3 bash -c "cat >/dev/tcp/127.0.0.1/$(raft_port 1)" || true
	alive
	wait_leader 15 >/dev/null
	kv_put 0 after-garbage ok
	[ "$status_code" = 200 ]
	kv_get 1 after-garbage
	[ "$(echo "$body" | jq -r .value)" = ok ]
}

@test "bad flags exit non-zero with one clear line" {
	run "$BINDIR/raftkv" --node 9 --http :0 --cluster "0,:1;1,:2" --data-dir "$BATS_TEST_TMPDIR/x"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -ge 1 ]
	run "$BINDIR/raftkv" --bogus
	[ "$status" -ne 0 ]
	run "$BINDIR/raftkv" --node 0 --http "127.0.0.1:$CLUSTER_BASE" --cluster "0,127.0.0.1:1;1,127.0.0.1:2" --data-dir "$BATS_TEST_TMPDIR/y"
	[ "$status" -ne 0 ]
	[[ "$output" == *"use"* ]] || [[ "$output" == *"bind"* ]] || [[ "$output" == *"$CLUSTER_BASE"* ]]
	run "$BINDIR/raftkv" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--data-dir"* ]]
	run "$BINDIR/raftkv" --version
	[ "$status" -eq 0 ]
}

@test "a NUL in a /set value and JSON with trailing garbage are 400 and apply nothing (issue 15.5)" {
	l=$(wait_leader 15)
	http GET "$(node_url "$l")/set?key=nul15&value=abc%00def"
	[ "$status_code" = 400 ]
	kv_get "$l" nul15
	[ "$status_code" = 404 ]
	http POST "$(node_url "$l")/kv/tg15/cas" '{"from":null,"to":"x"}}}]]garbage'
	[ "$status_code" = 400 ]
	kv_get "$l" tg15
	[ "$status_code" = 404 ]
	http POST "$(node_url "$l")/txn" '{"ops":[["w","tg15t","v"]]} trailing'
	[ "$status_code" = 400 ]
	kv_get "$l" tg15t
	[ "$status_code" = 404 ]
	o=$(other_node "$l")
	http POST "$(node_url "$l")/admin/transfer" "{\"to\":$o}}garbage"
	[ "$status_code" = 400 ]
	sleep 0.5
	[ "$(leader_id)" = "$l" ]
	# trailing whitespace is still fine
	http POST "$(node_url "$l")/kv/tg15/cas" $'{"from":null,"to":"ok"} \n'
	[ "$status_code" = 200 ]
}

@test "HEAD is served like GET without a body on /kv and /healthz (issue 15.6)" {
	l=$(wait_leader 15)
	kv_put "$l" head15 v
	[ "$status_code" = 200 ]
	for path in /healthz /kv/head15; do
		run curl -s -I -m 5 -o /dev/null -w '%{http_code} %{size_download}' "$(node_url "$l")$path"
		[ "$output" = "200 0" ]
	done
	run curl -s -I -m 5 -o /dev/null -w '%{http_code}' "$(node_url "$l")/kv/head15-absent"
	[ "$output" = 404 ]
}
