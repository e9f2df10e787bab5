#!/usr/bin/env bats
# --admin-token and --enable-faults are enforced.

load helpers

setup_file() {
	export RAFTKV_NODE_FLAGS="--admin-token s3cret"
	export RAFTKV_AGENT_FLAGS="--admin-token s3cret"
	cluster_up 3
}
teardown_file() { cluster_down; }

@test "admin requests without the right bearer token get 401" {
	run curl -s -o /dev/null -w '%{http_code}' "$(node_url 0)/admin/status"
	[ "$output" = 401 ]
	run curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$(node_url 0)/admin/status"
	[ "$output" = 401 ]
	run curl -s -o /dev/null -w '%{http_code}' -X POST --data '{}' "$(node_url 0)/admin/faults/pause"
	[ "$output" = 401 ]
	run curl -s -o /dev/null -w '%{http_code}' -X POST "$(agent_url 0)/agent/kill"
	[ "$output" = 401 ]
	run curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret' "$(node_url 0)/admin/status"
	[ "$output" = 200 ]
	# the scheme in any case, on the node and the agent alike; a token that
	# is a prefix or an extension of the right one is wrong (issue 15.6)
	for url in "$(node_url 0)/admin/status" "$(agent_url 0)/agent/status"; do
		run curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: bearer s3cret' "$url"
		[ "$output" = 200 ]
		run curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: BEARER s3cret' "$url"
		[ "$output" = 200 ]
		run curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cre' "$url"
		[ "$output" = 401 ]
		run curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret2' "$url"
		[ "$output" = 401 ]
	done
	# the client API needs no token
	wait_until 15 curl -fs "$(node_url 0)/readyz"
}

@test "fault endpoints answer only with --enable-faults" {
	d=$BATS_TEST_TMPDIR/solo
	port=$((CLUSTER_BASE + 50))
	"$BINDIR/raftkv" --node 0 --http "127.0.0.1:$port" --cluster "0,127.0.0.1:$((port + 1))" --data-dir "$d" &
	pid=$!
	wait_until 10 curl -fs "http://127.0.0.1:$port/healthz"
	run curl -s -o /dev/null -w '%{http_code}' -X POST --data '{}' "http://127.0.0.1:$port/admin/faults/pause"
	kill "$pid"; wait "$pid" || true
	[ "$output" = 403 ]
}
