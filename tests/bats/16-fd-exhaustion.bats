#!/usr/bin/env bats
# Issue 15.2 end to end: a node whose descriptor limit is low is sent more
# client connections than it may hold. It must refuse the surplus, stay up,
# keep committing (its WAL keeps creating segments: --wal-segment-bytes is
# tiny so writes roll it over and over while the connections are held), and
# serve again once they close. Before the connection limit and the reserve,
# the next WAL segment could not be created and the node exited.

load helpers

# 512 descriptors: the node keeps 256 of them free, so at most 256 clients
setup_file() {
	[ "$RAFTKV_BACKEND" = local ] || return 0 # local backend only (ulimit, data dirs): each test skips (bats 1.8 fails a skip here)
	local old
	old=$(ulimit -Sn)
	ulimit -Sn 512
	RAFTKV_NODE_FLAGS="--wal-segment-bytes 16384" cluster_up 3
	ulimit -Sn "$old"
}
teardown_file() {
	[ "$RAFTKV_BACKEND" = local ] || return 0 # setup_file skipped: nothing is up
	local fd
	for fd in ${HELD_FDS:-}; do eval "exec $fd>&-"; done
	cluster_down
}

# the newest WAL segment's number (segments are DIR/wal/<16 digits>.wal)
last_segment() { ls "$CLUSTER_DIR/n$1/wal" | sed -n 's/^0*\([0-9][0-9]*\)\.wal$/\1/p' | sort -n | tail -n 1; }
healthy() { [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$(node_url "$1")/healthz")" = 200 ]; }

@test "a node at its descriptor limit refuses connections, keeps committing and rolling its WAL, and recovers" {
	[ "$RAFTKV_BACKEND" = local ] || skip "local backend only"
	l=$(wait_leader 30)
	f=$(other_node "$l")
	pid=$(pgrep -f "^[^ ]*/raftkv --node $l .*$CLUSTER_DIR/n$l" | head -n 1)
	grep "Max open files" "/proc/$pid/limits"
	grep -q "Max open files  *512 " "/proc/$pid/limits"
	seg0=$(last_segment "$l")
	# hold 320 connections to the leader's HTTP port: more than it may keep
	HELD_FDS=""
	for ((i = 0; i < 320; i++)); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$((CLUSTER_BASE + l))" || break
		HELD_FDS+=" $fd"
	done
	export HELD_FDS
	sleep 1
	# the surplus is refused: a new client gets no answer from the leader
	run curl -s -m 3 -o /dev/null -w '%{http_code}' "$(node_url "$l")/healthz"
	echo "leader while full: $output"
	[ "$output" != 200 ]
	# writes through a follower still commit, each one on the leader's WAL
	# (4 KiB values, 16 KiB segments: a new segment every few writes)
	v=$(head -c 4096 /dev/zero | tr '\0' w)
	for ((i = 1; i <= 40; i++)); do
		kv_put "$f" "fd-$i" "$v"
		[ "$status_code" = 200 ] || { echo "write $i: $status_code $body"; false; }
	done
	seg1=$(last_segment "$l")
	echo "leader's WAL segments: $seg0 -> $seg1"
	[ "$seg1" -gt "$seg0" ]
	[ "$(agent_state "$l")" = running ]
	kill -0 "$pid" # the same process: it never exited
	[ "$(status_of "$f" | jq -r .leader)" = "$l" ] # (the leader itself has no room to answer)
	! node_log "$l" | grep -Ei "fatal|too many open files|exited"
	# the connections close: the leader serves clients again
	for fd in $HELD_FDS; do eval "exec $fd>&-"; done
	HELD_FDS=""
	wait_until 10 healthy "$l"
	kv_put "$l" fd-after "done"
	[ "$status_code" = 200 ]
	kv_get "$l" fd-40
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -r .value)" = "$v" ]
}
