#!/usr/bin/env bats
# A hostile peer (issue 15.1): forged messages on the Raft port never stop the
# cluster, and with a cluster secret a hello without the secret is refused.
# raftkv-peer-send plays the peer (tests/tools/peer_send.c).

load helpers

setup() {
	[ "$RAFTKV_BACKEND" = local ] || skip "dials the nodes' Raft ports on loopback"
	[ -x "$BINDIR/raftkv-peer-send" ] || skip "raftkv-peer-send not built (make tools)"
}
teardown() {
	cluster_down
	rm -rf "$BATS_FILE_TMPDIR/cluster"
}

peer_send() { # NODE FROM TYPE TERM [COUNT] [SECRET]
	"$BINDIR/raftkv-peer-send" "127.0.0.1:$(raft_port "$1")" "$2" "$1" "$3" "$4" "${@:5}"
}

# The term node $1 reports, as the digits of the JSON text (jq would round).
term_of() { status_of "$1" | grep -o '"term": *[0-9.eE+]*' | grep -o '[0-9.eE+]*$'; }

bad_frames() { curl -s -m 2 "$(node_url "$1")/metrics" | awk '/^raftkv_transport_bad_frames_total / { print $2 }'; }

writes_ok() { # NODE PREFIX COUNT → how many of COUNT writes were acknowledged
	local i ok=0
	for ((i = 1; i <= $3; i++)); do
		kv_put "$1" "$2-$i" "v$i"
		[ "$status_code" = 200 ] && ok=$((ok + 1))
	done
	echo "$ok"
}

@test "a forged HEARTBEAT with term 2^64-1 from the leader's id does not stop the cluster" {
	cluster_up 3
	l=$(wait_leader 20)
	f=$(other_node "$l")
	run peer_send "$f" "$l" 6 18446744073709551615 3
	[ "$status" -eq 0 ]
	run peer_send "$f" "$l" 6 18446744073709551614 3
	[ "$status" -eq 0 ]
	sleep 1
	for ((i = 0; i < 3; i++)); do
		t=$(term_of "$i")
		echo "node $i term $t"
		[[ "$t" =~ ^[0-9]{1,6}$ ]]
	done
	l=$(wait_leader 10)
	[ "$(writes_ok "$l" forged 10)" = 10 ]
	# elections still work: the leader goes, another is elected and serves
	kill_node "$l"
	nl=$(wait_leader 20 "$l")
	kv_put "$nl" after-election v
	[ "$status_code" = 200 ]
}

@test "with --peer-secret-file the cluster runs and hellos without the secret are refused" {
	printf 'cluster-secret-%s\n' "$$" >"$BATS_FILE_TMPDIR/secret"
	RAFTKV_NODE_FLAGS="--peer-secret-file $BATS_FILE_TMPDIR/secret" cluster_up 3
	l=$(wait_leader 20)
	f=$(other_node "$l")
	[ "$(writes_ok "$l" sec 5)" = 5 ]
	b0=$(bad_frames "$f")
	# no proof, a wrong proof: the node closes the connection, counting a bad frame
	run peer_send "$f" "$l" 6 18446744073709551614
	[ "$output" = closed ]
	run peer_send "$f" "$l" 6 18446744073709551614 1 wrong-secret
	[ "$output" = closed ]
	[ "$(bad_frames "$f")" = $((b0 + 2)) ]
	# the right proof from a member is accepted (a stale term, harmless; the
	# real member's next reconnect may replace the connection, not a bad frame)
	run peer_send "$f" "$l" 6 1 1 "cluster-secret-$$"
	[ "$(bad_frames "$f")" = $((b0 + 2)) ]
	# a hello from an id that is not a member is refused even with the secret
	run peer_send "$f" 9 6 1 1 "cluster-secret-$$"
	[ "$output" = closed ]
	[ "$(bad_frames "$f")" = $((b0 + 3)) ]
	[[ "$(term_of "$f")" =~ ^[0-9]{1,6}$ ]]
	[ "$(writes_ok "$l" sec2 5)" = 5 ]
}
