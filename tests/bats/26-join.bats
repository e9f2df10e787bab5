#!/usr/bin/env bats
# raftkv --join URL --raft ADDR (contract section 1, node/server/README.md
# "Joining"): a node started empty asks to be added, learns the
# configuration through the log, is promoted once caught up, keeps it across
# a restart; refusals are one clear line; removing the leader makes it step
# down, say "removed" and stay quiet.

load helpers

setup_file() { cluster_up 3; }
teardown_file() { cluster_down; } # stops the joined nodes' agents too (agent*.pid)
teardown() { heal_all; }

members_of() { curl -s -m 3 ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(node_url "$1")/admin/members"; }
voters_of() { members_of "$1" | jq -c '[.members[] | select(.voter) | .id] | sort'; }

# start_joiner ID VIA [node flags...]: node ID under its agent, joining through node VIA.
start_joiner() {
	local id=$1 via=$2
	shift 2
	mkdir -p "$CLUSTER_DIR/n$id"
	"$BINDIR/raftkv-agent" --listen "127.0.0.1:$((CLUSTER_BASE + 20 + id))" --data-dir "$CLUSTER_DIR/n$id" \
		--log "$CLUSTER_DIR/n$id.log" ${TOKEN:+--admin-token "$TOKEN"} -- \
		"$BINDIR/raftkv" --node "$id" --http "127.0.0.1:$((CLUSTER_BASE + id))" \
		--raft "127.0.0.1:$(raft_port "$id")" --join "$(node_url "$via")" \
		--data-dir "$CLUSTER_DIR/n$id" --enable-faults ${TOKEN:+--admin-token "$TOKEN"} "$@" \
		>>"$CLUSTER_DIR/agent$id.log" 2>&1 &
	echo $! >"$CLUSTER_DIR/agent$id.pid"
}
# The leader's voters are $1 (the leader of the moment: a stale one may lag).
leader_voters_are() { local l; l=$(leader_id); [ -n "$l" ] && [ "$(voters_of "$l")" = "$1" ]; }
membership_is() { status_of "$1" | jq -e --arg m "$2" '.membership == $m' >/dev/null; } # NODE STATE

@test "join: a node started with --join is added, learns the configuration, is promoted, survives a restart" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts local processes"
	l=$(wait_leader 20)
	kv_put "$l" before-join 1
	[ "$status_code" = 200 ]
	f=$(other_node "$l")
	start_joiner 3 "$f" # through a follower: the node follows the leader hint
	CLUSTER_N=4         # leader_id and heal_all look at the joined node too
	wait_until 20 membership_is 3 voter
	wait_until 10 leader_voters_are "[0,1,2,3]"
	status_of 3 | jq -e '.members | length == 4 and all(.raft != null)'
	# no --cluster anywhere: the data dir says it joined, with its book of peers
	jq -e '.join == true and (.peers | test("^0,"))' "$CLUSTER_DIR/n3/meta.json"
	grep -q 'join: node 3 is a member' "$CLUSTER_DIR/n3.log"
	kv_get 3 before-join
	[ "$status_code" = 200 ]
	kv_put 3 after-join 2
	[ "$status_code" = 200 ]
	kv_get "$l" after-join
	[ "$(echo "$body" | jq -r .value)" = 2 ]
	# a restart needs no second request: the configuration is in its log
	agent_post 3 restart >/dev/null
	wait_until 20 curl -fs -m 1 "$(node_url 3)/readyz"
	membership_is 3 voter
	[ "$(grep -c 'join: asking' "$CLUSTER_DIR/n3.log")" = 1 ]
	kv_get 3 after-join
	[ "$(echo "$body" | jq -r .value)" = 2 ]
}

@test "join: --join-learner stays a learner until promoted on request" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts local processes"
	CLUSTER_N=4
	l=$(wait_leader 20)
	start_joiner 4 "$l" --join-learner
	CLUSTER_N=5
	wait_until 20 sh -c "curl -s -m 2 '$(node_url 4)/admin/status' | jq -e '.membership == \"learner\" and .commit_index > 0 and .applied_index >= .commit_index' >/dev/null"
	sleep 1
	membership_is 4 learner
	leader_voters_are "[0,1,2,3]"
	http POST "$(node_url "$l")/admin/members" '{"op":"promote","id":4}'
	echo "$body"
	[ "$status_code" = 200 ]
	wait_until 10 membership_is 4 voter
	wait_until 10 leader_voters_are "[0,1,2,3,4]"
}

@test "join: refusals are one clear line and change nothing" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts local processes"
	CLUSTER_N=5
	l=$(wait_leader 20)
	before=$(members_of "$l" | jq -c '[.members[] | {id, voter}] | sort_by(.id)')
	d=$BATS_FILE_TMPDIR/refused
	# an id that is a member at another address
	run timeout 20 "$BINDIR/raftkv" --node 1 --http 127.0.0.1:$((CLUSTER_BASE + 60)) \
		--raft 127.0.0.1:$((CLUSTER_BASE + 61)) --join "$(node_url "$l")" --data-dir "$d/a" ${TOKEN:+--admin-token "$TOKEN"}
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"node id 1 is already a member with raft address 127.0.0.1:$(raft_port 1)"* ]]
	# flags: --join with --cluster, --join without --raft, a URL that is not one
	run "$BINDIR/raftkv" --node 9 --http :1 --raft :2 --join "$(node_url 0)" --cluster "9,:2" --data-dir "$d/c"
	[ "$status" -eq 2 ]
	[[ "$output" == *"not both"* ]]
	run "$BINDIR/raftkv" --node 9 --http :1 --join "$(node_url 0)" --data-dir "$d/c"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--join needs --raft"* ]]
	run "$BINDIR/raftkv" --node 9 --http :1 --raft :2 --join "127.0.0.1:1" --data-dir "$d/c"
	[ "$status" -eq 2 ]
	# a joined node's dir refuses --cluster
	run "$BINDIR/raftkv" --node 3 --http :1 --cluster "3,:2" --data-dir "$CLUSTER_DIR/n3"
	[ "$status" -ne 0 ]
	# nobody answering: --join-timeout 0 keeps trying and says so
	run timeout 3 "$BINDIR/raftkv" --node 9 --http 127.0.0.1:$((CLUSTER_BASE + 62)) \
		--raft 127.0.0.1:$((CLUSTER_BASE + 63)) --join "http://127.0.0.1:$((CLUSTER_BASE + 64))" --data-dir "$d/e" \
		--join-timeout 0
	[ "$status" -eq 124 ]
	[[ "$output" == *"retrying"* ]]
	[ "$(members_of "$l" | jq -c '[.members[] | {id, voter}] | sort_by(.id)')" = "$before" ]
}

# A wiped node comes back with the same id: its boot nonce must not repeat
# its previous life's, or its commands reuse (origin, nonce, request id)
# of commands already in the log (RT_NONCE_GENERATION in node/runtime/rt.h:
# a new life takes a nonce above every one the log shows for its id). The
# planted variant puts the previous life's last count back into the fresh
# dir, so the node starts with that very nonce (as counting from 1 again
# did to a node that never restarted): its writes are taken for old ones.
# Without it, the same steps work. Found on a real cluster by
# 27-grow-shrink.bats "replace" (an acknowledged write that never applied).
rejoin_wiped() { # ID [BOOT-COUNT]
	local id=$1 boot=${2:-}
	http POST "$(node_url "$(wait_leader 20)")/admin/members" "{\"op\":\"remove\",\"id\":$id}"
	[ "$status_code" = 200 ] || { echo "remove $id: $status_code $body"; return 1; }
	kill -TERM "$(cat "$CLUSTER_DIR/agent$id.pid")"
	wait_until 10 sh -c "! kill -0 $(cat "$CLUSTER_DIR/agent$id.pid") 2>/dev/null"
	rm -rf "$CLUSTER_DIR/n$id"
	mkdir -p "$CLUSTER_DIR/n$id"
	[ -z "$boot" ] || echo "$boot" >"$CLUSTER_DIR/n$id/BOOT"
	start_joiner "$id" "$(wait_leader 20)"
	wait_until 20 membership_is "$id" voter
	wait_until 10 curl -fs -m 1 "$(node_url "$id")/readyz"
}

@test "join: a wiped node rejoins with a boot nonce above its previous life's (planted: the same one)" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts local processes"
	CLUSTER_N=5
	for i in 1 2 3; do kv_put 4 nonce-old "$i"; [ "$status_code" = 200 ]; done
	last=$(cat "$CLUSTER_DIR/n4/BOOT")
	# planted: the new life's first nonce is the old life's last one
	rejoin_wiped 4 "$((last - 1))"
	kv_put 4 nonce-planted new
	echo "$status_code $body"
	[ "$status_code" = 504 ]
	[[ "$body" == *"duplicate"* ]]
	kv_get 0 nonce-planted
	[ "$status_code" = 404 ]
	# the node as it is: a fresh dir starts above every earlier count
	rejoin_wiped 4
	for i in 1 2 3; do
		kv_put 4 nonce-fixed "v$i"
		echo "$status_code $body"
		[ "$status_code" = 200 ]
		kv_get 0 nonce-fixed
		[ "$(echo "$body" | jq -r .value)" = "v$i" ]
	done
	[ "$(cat "$CLUSTER_DIR/n4/BOOT")" -gt "$last" ]
}

@test "join: removing the leader: it answers, steps down, says removed and stays quiet" {
	[ "$RAFTKV_BACKEND" = local ] || skip "needs the joined nodes of the first tests"
	CLUSTER_N=5
	l=$(wait_leader 20)
	http POST "$(node_url "$l")/admin/members" "{\"op\":\"remove\",\"id\":$l}"
	echo "$body"
	[ "$status_code" = 200 ]
	echo "$body" | jq -e --argjson l "$l" 'all(.members[]; .id != $l)'
	n=$(wait_leader 15 "$l")
	[ "$n" != "$l" ]
	wait_until 5 sh -c "curl -s -m 2 '$(node_url "$l")/admin/status' | jq -e '.membership == \"removed\" and .removed and .role == \"follower\"' >/dev/null"
	kv_put "$n" after-leader-removed 1
	[ "$status_code" = 200 ]
	# the removed node neither campaigns nor disturbs: terms stay put
	t_removed=$(status_of "$l" | jq .term)
	t_leader=$(status_of "$n" | jq .term)
	sleep 3
	[ "$(status_of "$l" | jq .term)" = "$t_removed" ]
	[ "$(status_of "$n" | jq .term)" = "$t_leader" ]
	[ "$(leader_id)" = "$n" ]
	status_of "$l" | jq -e '.role == "follower"'
	echo "$l" >"$BATS_FILE_TMPDIR/removed-leader"
}

# A node that joins (again) asks its --join URL first. That member may be
# out of date: here it was removed (the test before), so its configuration
# stopped at its removal and still lists the node being replaced, at the
# very same raft address. Only the leader's list says whether the node is
# in: trusting the stale one, the wiped node took itself for a member and
# waited as "joining" for good (found by the Jepsen member nemesis: a
# replaced n5 whose --join URL, n1, had been removed).
@test "join: a wiped node whose --join URL is a removed member is added again" {
	[ "$RAFTKV_BACKEND" = local ] || skip "needs the removed leader of the test before"
	CLUSTER_N=5
	gone=$(for i in 0 1 2 3 4; do status_of "$i" | jq -r 'select(.removed) | .id'; done | head -n 1)
	[ -n "$gone" ]
	j=4
	[ "$gone" != 4 ] || j=3
	# the removed node still lists j, at j's raft address
	status_of "$gone" | jq -e --argjson j "$j" --arg r "127.0.0.1:$(raft_port "$j")" \
		'any(.members[]; .id == $j and .raft == $r)'
	l=$(wait_leader 20 "$gone")
	http POST "$(node_url "$l")/admin/members" "{\"op\":\"remove\",\"id\":$j}"
	[ "$status_code" = 200 ]
	kill -TERM "$(cat "$CLUSTER_DIR/agent$j.pid")"
	wait_until 10 sh -c "! kill -0 $(cat "$CLUSTER_DIR/agent$j.pid") 2>/dev/null"
	rm -rf "$CLUSTER_DIR/n$j"
	start_joiner "$j" "$gone"
	wait_until 20 membership_is "$j" voter || {
		status_of "$j" | jq -c '{membership, leader}'
		tail -n 5 "$CLUSTER_DIR/n$j.log"
		false
	}
	# the joiner takes its promotion as in force when the entry reaches its
	# log; the leader's answer may lag that by a round trip
	listed_voter() { l=$(wait_leader 20 "$gone") && members_of "$l" | jq -e --argjson j "$j" 'any(.members[]; .id == $j and .voter)' >/dev/null; }
	wait_until 20 listed_voter
	wait_until 10 curl -fs -m 1 "$(node_url "$j")/readyz"
}

# What a removed node does when restarted with its old data dir (etcd: a
# removed member is told so and does not rejoin by itself): it stays out —
# no vote, no campaign — and its log, its status and its answers say that
# it was removed and that it comes back only with a wiped dir and --join.
# Following that advice makes it a voter again.
@test "join: a removed node restarted with its old data dir says it was removed and how to rejoin; wiped and --join, it is a voter again" {
	[ "$RAFTKV_BACKEND" = local ] || skip "needs the removed leader of the test before"
	CLUSTER_N=5
	l=$(cat "$BATS_FILE_TMPDIR/removed-leader")
	n=$(wait_leader 15 "$l")
	# said when the removal reached it, and again by the restart, at boot
	said() { grep -c "removed: node $l was removed from the cluster" "$CLUSTER_DIR/n$l.log"; }
	[ "$(said)" -eq 1 ]
	agent_post "$l" restart >/dev/null
	wait_until 20 curl -s -m 1 -o /dev/null "$(node_url "$l")/healthz"
	[ "$(said)" -eq 2 ]
	grep -A1 "recovered term" "$CLUSTER_DIR/n$l.log" | tail -n 1 | grep -q "removed: node $l was removed"
	line=$(grep "removed: node $l was removed" "$CLUSTER_DIR/n$l.log" | tail -n 1)
	echo "$line"
	[[ "$line" == *"neither votes nor campaigns"*"wipe its data dir and start it with --join URL"* ]]
	status_of "$l" | jq -e '.removed and .membership == "removed" and .role == "follower" and (.removed_note | test("wipe its data dir and start it with --join"))'
	status_of "$n" | jq -e '.removed == false and .removed_note == null'
	# requests: a clear 503, nothing proposed
	kv_put "$l" from-removed 1
	echo "$status_code $body"
	[ "$status_code" = 503 ]
	echo "$body" | jq -e '.error == "removed" and (.detail | test("--join"))'
	kv_get "$l" before-join
	[ "$status_code" = 503 ]
	echo "$body" | jq -e '.error == "removed"'
	run curl -s -m 2 "$(node_url "$l")/readyz"
	[[ "$output" == *'"removed"'* ]]
	kv_get "$n" from-removed
	[ "$status_code" = 404 ]
	# and quiet: no term moves
	t=$(status_of "$n" | jq .term)
	sleep 2
	[ "$(status_of "$n" | jq .term)" = "$t" ]
	[ "$(status_of "$l" | jq -r .membership)" = removed ]
	# as it says: stop, wipe, --join
	kill -TERM "$(cat "$CLUSTER_DIR/agent$l.pid")"
	wait_until 10 sh -c "! kill -0 $(cat "$CLUSTER_DIR/agent$l.pid") 2>/dev/null"
	rm -rf "$CLUSTER_DIR/n$l"
	mkdir -p "$CLUSTER_DIR/n$l"
	start_joiner "$l" "$n"
	wait_until 30 membership_is "$l" voter
	wait_until 10 curl -fs -m 1 "$(node_url "$l")/readyz"
	status_of "$l" | jq -e '.removed == false and .removed_note == null'
	kv_put "$l" back-again 1
	[ "$status_code" = 200 ]
}

# A --join URL nobody answers at (a typo, a cluster that is down) is not
# retried forever: after --join-timeout seconds (default 60, listed by
# --help) the node gives up with one line naming the last failure, exit 1,
# and has changed nothing in the cluster; once the cluster is there, the
# same dir joins.
@test "join: a --join URL that is down: retried for --join-timeout, then one line and exit 1" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts local processes"
	run "$BINDIR/raftkv" --help
	[[ "$output" == *"--join-timeout V"*"(default 60)"* ]]
	d=$BATS_FILE_TMPDIR/jt
	down="http://127.0.0.1:$((CLUSTER_BASE + 65))" # nothing listens there
	t0=$SECONDS
	run timeout 30 "$BINDIR/raftkv" --node 7 --http 127.0.0.1:$((CLUSTER_BASE + 66)) \
		--raft 127.0.0.1:$((CLUSTER_BASE + 67)) --join "$down" --data-dir "$d" --join-timeout 3 ${TOKEN:+--admin-token "$TOKEN"}
	took=$((SECONDS - t0))
	echo "$output"
	echo "took ${took}s"
	[ "$status" -eq 1 ]
	[ "$took" -ge 2 ] && [ "$took" -le 12 ]
	[[ "$output" == *"retrying"* ]] # it did retry, saying so
	# the last line is the one reason, naming the URL and the flag
	last=$(echo "$output" | tail -n 1)
	[[ "$last" == "raftkv: --join: no member answered within 3 s (--join-timeout; 0 keeps trying); last try: $down/admin/status: "* ]]
	[ "$(echo "$output" | grep -c -e '--join-timeout')" -eq 1 ]
	# nothing was added; bad values are refused
	CLUSTER_N=5 # the leader may be a joined node
	l=$(wait_leader 20)
	members_of "$l" | jq -e 'all(.members[]; .id != 7)'
	run "$BINDIR/raftkv" --node 7 --http :1 --raft :2 --join "$down" --data-dir "$d" --join-timeout -1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--join-timeout"* ]]
}

# A removed node whose data dir was wiped and which is started again with
# its bootstrap flags (--cluster) cannot tell from its empty dir that it was
# removed, and the members ignore a non-member's probes: it probed for good.
# It asks the --cluster members who leads and trusts only the leader's
# members list: without its id there, one line saying so and how to come
# back, exit 1. Nobody answering is no verdict: it keeps probing.
@test "join: a removed node wiped and restarted with --cluster says it was removed and exits 1" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts local processes"
	CLUSTER_N=5
	boot="0,127.0.0.1:$(raft_port 0),127.0.0.1:$CLUSTER_BASE;1,127.0.0.1:$(raft_port 1),127.0.0.1:$((CLUSTER_BASE + 1));2,127.0.0.1:$(raft_port 2),127.0.0.1:$((CLUSTER_BASE + 2))"
	# silence: --cluster members that do not answer keep it probing
	quiet="0,127.0.0.1:$((CLUSTER_BASE + 69)),127.0.0.1:$((CLUSTER_BASE + 68));1,127.0.0.1:$((CLUSTER_BASE + 70)),127.0.0.1:$((CLUSTER_BASE + 71))"
	run timeout 4 "$BINDIR/raftkv" --node 0 --http 127.0.0.1:$((CLUSTER_BASE + 68)) --cluster "$quiet" \
		--data-dir "$BATS_FILE_TMPDIR/quiet" ${TOKEN:+--admin-token "$TOKEN"}
	echo "$output"
	[ "$status" -eq 124 ]
	[[ "$output" == *"probing"* ]]
	[[ "$output" != *"not in the cluster"* ]]
	# a bootstrap member (not the leader) removed, stopped, wiped
	l=$(wait_leader 20)
	r=$(for i in 0 1 2; do [ "$i" != "$l" ] && echo "$i"; done | head -n 1)
	http POST "$(node_url "$l")/admin/members" "{\"op\":\"remove\",\"id\":$r}"
	echo "$body"
	[ "$status_code" = 200 ]
	kill -TERM "$(cat "$CLUSTER_DIR/agent$r.pid")"
	wait_until 10 sh -c "! kill -0 $(cat "$CLUSTER_DIR/agent$r.pid") 2>/dev/null"
	rm -rf "$CLUSTER_DIR/n$r"
	mkdir -p "$CLUSTER_DIR/n$r"
	run timeout 30 "$BINDIR/raftkv" --node "$r" --http "127.0.0.1:$((CLUSTER_BASE + r))" --cluster "$boot" \
		--data-dir "$CLUSTER_DIR/n$r" --enable-faults ${TOKEN:+--admin-token "$TOKEN"}
	echo "$output" | tail -n 5
	[ "$status" -eq 1 ]
	[[ "$output" == *"node $r is not in the cluster's configuration (removed); to add it again, start it with an empty --data-dir and --join URL"* ]]
	# it changed nothing; following the advice makes it a voter again
	l=$(wait_leader 20 "$r")
	members_of "$l" | jq -e --argjson r "$r" 'all(.members[]; .id != $r)'
	rm -rf "$CLUSTER_DIR/n$r"
	mkdir -p "$CLUSTER_DIR/n$r"
	start_joiner "$r" "$l"
	wait_until 30 membership_is "$r" voter
	wait_until 10 curl -fs -m 1 "$(node_url "$r")/readyz"
}

# raftkv-ctl member remove / add / promote / replace end to end, and a
# leadership transfer to a learner refused over HTTP. On a bootstrap member
# B (not the leader): removed, added back at its address (auto-promoted);
# removed, added back as a learner that is not auto-promoted, which cannot
# be handed the leadership, then promoted; then replaced by a new empty
# node at another raft address (started first, it probes: its id is still
# listed, so it waits; the add reaches it, and the leader then replaces
# the life it added by the node's own, as for any wiped member).
@test "join: raftkv-ctl member remove, add, promote, replace; no transfer to a learner" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts local processes"
	CLUSTER_N=5
	ctl=("$BINDIR/raftkv-ctl" --nodes "$(node_url 0),$(node_url 1),$(node_url 2),$(node_url 3),$(node_url 4)" ${TOKEN:+--token "$TOKEN"})
	l=$(wait_leader 20)
	b=$(for i in 0 1 2; do [ "$i" != "$l" ] && membership_is "$i" voter && echo "$i"; done | head -n 1)
	[ -n "$b" ]
	braft=127.0.0.1:$(raft_port "$b")
	bhttp=127.0.0.1:$((CLUSTER_BASE + b))
	all5=$(voters_of "$l")
	without=$(echo "$all5" | jq -c --argjson b "$b" 'map(select(. != $b))')
	# remove, add back (auto-promoted once caught up)
	run "${ctl[@]}" member remove "$b"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_until 10 leader_voters_are "$without"
	wait_until 10 membership_is "$b" removed
	run "${ctl[@]}" member add "$b" "$braft" "$bhttp"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_until 20 leader_voters_are "$all5"
	wait_until 10 membership_is "$b" voter
	# a learner: no transfer to it (HTTP 400, nothing changes), then promoted
	run "${ctl[@]}" member remove "$b"
	[ "$status" -eq 0 ]
	wait_until 10 membership_is "$b" removed
	l=$(wait_leader 20)
	inc=$(status_of "$b" | jq -r .incarnation) # its own: else the leader replaces it (and promotes)
	http POST "$(node_url "$l")/admin/members" "{\"op\":\"add\",\"id\":$b,\"raft\":\"$braft\",\"http\":\"$bhttp\",\"incarnation\":\"$inc\",\"auto_promote\":false}"
	echo "$body"
	[ "$status_code" = 200 ]
	wait_until 20 sh -c "curl -s -m 2 '$(node_url "$b")/admin/status' | jq -e '.membership == \"learner\" and .applied_index >= .commit_index and .commit_index > 0' >/dev/null" ||
		{ status_of "$b"; status_of "$l"; tail -n 20 "$CLUSTER_DIR/n$b.log"; false; }
	term=$(status_of "$l" | jq .term)
	http POST "$(node_url "$l")/admin/transfer" "{\"to\":$b}"
	echo "$status_code $body"
	[ "$status_code" = 400 ]
	[[ "$body" == *"not a voting member"* ]]
	sleep 1
	[ "$(leader_id)" = "$l" ]
	[ "$(status_of "$l" | jq .term)" = "$term" ]
	membership_is "$b" learner
	run "${ctl[@]}" member promote "$b"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_until 10 leader_voters_are "$all5"
	echo "promoted: $(members_of "$l")"
	run "${ctl[@]}" member promote "$b" # a voter: refused, exit code says so
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Only a learner can be promoted"* ]]
	# replace: a new empty node, same id, same HTTP address, a new raft port
	kill -TERM "$(cat "$CLUSTER_DIR/agent$b.pid")"
	wait_until 10 sh -c "! kill -0 $(cat "$CLUSTER_DIR/agent$b.pid") 2>/dev/null"
	nraft=127.0.0.1:$((CLUSTER_BASE + 52))
	# its --cluster names every member (the leader may be a joined node,
	# and the transport hears only peers it knows), itself at the new port
	boot=$(members_of "$(wait_leader 10)" | jq -r --argjson b "$b" --arg r "$nraft" \
		'[.members[] | "\(.id),\(if .id == $b then $r else .raft end),\(.http)"] | join(";")')
	echo "boot: $boot"
	nd=$BATS_FILE_TMPDIR/replaced
	mkdir -p "$nd"
	"$BINDIR/raftkv-agent" --listen "127.0.0.1:$((CLUSTER_BASE + 20 + b))" --data-dir "$nd" \
		--log "$nd.log" ${TOKEN:+--admin-token "$TOKEN"} -- \
		"$BINDIR/raftkv" --node "$b" --http "$bhttp" --cluster "$boot" --data-dir "$nd" \
		--enable-faults ${TOKEN:+--admin-token "$TOKEN"} >>"$nd.agent.log" 2>&1 &
	echo $! >"$CLUSTER_DIR/agent$b.pid"
	wait_until 10 membership_is "$b" probing
	sleep 3 # listed by the leader: it keeps probing (probe_removed.c)
	membership_is "$b" probing
	# the new node first in --nodes: it is no leader and must say so (503),
	# not refuse the address it has itself (it answered 409 before)
	nodes=$(node_url "$b")
	for i in 0 1 2 3 4; do [ "$i" = "$b" ] || nodes+=",$(node_url "$i")"; done
	run "$BINDIR/raftkv-ctl" --nodes "$nodes" ${TOKEN:+--token "$TOKEN"} member replace "$b" "$nraft" "$bhttp"
	echo "$output"
	[ "$status" -eq 0 ] || { members_of "$(wait_leader 10)"; status_of "$b"; cat "$nd.log"; false; }
	echo "after replace: $(members_of "$(wait_leader 10)")"
	wait_until 30 membership_is "$b" voter || { status_of "$b"; tail -n 20 "$nd.log"; echo "now: $(members_of "$(wait_leader 10)")"; false; }
	listed() { l=$(wait_leader 20) && members_of "$l" | jq -e --argjson b "$b" --arg r "$nraft" 'any(.members[]; .id == $b and .raft == $r and .voter)' >/dev/null; }
	wait_until 20 listed
	wait_until 20 curl -fs -m 1 -o /dev/null "$(node_url "$b")/readyz"
	kv_put "$b" after-ctl-replace 1
	[ "$status_code" = 200 ]
	kv_get "$l" after-ctl-replace
	[ "$(echo "$body" | jq -r .value)" = 1 ]
	run "${ctl[@]}" member list
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$nraft"* ]]
}
