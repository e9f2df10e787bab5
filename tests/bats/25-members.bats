#!/usr/bin/env bats
# Membership changes through POST /admin/members (contract section 3), each
# answered once committed, refused requests a clear 4xx that changes
# nothing; and the wiped-node scenario of issue 10 item 1, made safe by the
# node's incarnation (node/raft/README.md "Membership").

load helpers

setup_file() { cluster_up 3; }
teardown_file() { cluster_down; }
teardown() { heal_all; }

members_of() { curl -s -m 3 ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(node_url "$1")/admin/members"; }
voters_of() { members_of "$1" | jq -c '[.members[] | select(.voter) | .id] | sort'; }
change() { http POST "$(node_url "$1")/admin/members" "$2"; } # NODE BODY
partition_groups() { # JSON-GROUPS: on every node that runs
	local i
	for ((i = 0; i < CLUSTER_N; i++)); do admin_post "$i" /admin/faults/partition "{\"groups\":$1}" >/dev/null || true; done
}

@test "members: bad requests get a clear 4xx and change nothing" {
	three='[{"id":0,"voter":true},{"id":1,"voter":true},{"id":2,"voter":true}]'
	# sorted by id: a replacement (remove, then add) puts the new life last
	settled() { l=$(wait_leader 20) && [ "$(members_of "$l" | jq -c '[.members[] | {id, voter}] | sort_by(.id)')" = "$three" ]; }
	# On the Docker backend the cluster outlives the files before this one: a
	# node an earlier test wiped may still be being replaced (remove, add as
	# learner, promote) by the leader. Start from the settled configuration.
	wait_until 60 settled
	l=$(wait_leader 20)
	before=$(members_of "$l" | jq -c '[.members[] | {id, voter}]')
	[ "$(jq -c 'sort_by(.id)' <<<"$before")" = "$three" ]
	change "$l" '{"op":"remove","id":42}'
	[ "$status_code" = 404 ]
	[[ "$body" == *"No member has this id"* ]]
	change "$l" '{"op":"add","id":1,"raft":"127.0.0.1:1"}'
	[ "$status_code" = 409 ]
	[[ "$body" == *"already a member"* ]]
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
	change "$l" '{"op":"add","id":9,"raft":"127.0.0.1:9","incarnation":-1}'
	[ "$status_code" = 400 ]
	change "$l" 'not json'
	[ "$status_code" = 400 ]
	http PUT "$(node_url "$l")/admin/members" '{}'
	[ "$status_code" = 405 ]
	f=$(other_node "$l")
	change "$f" '{"op":"remove","id":1}'
	[ "$status_code" = 503 ]
	[[ "$body" == *"send this to node $l"* ]]
	after=$(members_of "$l" | jq -c '[.members[] | {id, voter}]')
	[ "$before" = "$after" ]
	[ "$(status_of "$l" | jq '[.members[] | select(.voter and (.match_index != null))] | length')" = 3 ]
	[ "$(status_of "$f" | jq '[.members[] | select(.match_index == null)] | length')" = 3 ]
	# raftkv-ctl: the same list and the same refusals
	ctl=("$BINDIR/raftkv-ctl" --nodes "$(node_url 0),$(node_url 1),$(node_url 2)" ${TOKEN:+--token "$TOKEN"})
	run "${ctl[@]}" member list
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c ' voter ')" = 3 ]
	run "${ctl[@]}" member remove 42
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"No member has this id"* ]]
	[ "$(members_of "$l" | jq -c '[.members[] | {id, voter}]')" = "$before" ]
}

# Two changes at once: the first cannot commit while both followers' disks
# take 3 s per write (heartbeats are answered without the disk, so the
# leader keeps leading); the second, sent meanwhile, is refused 409 "change
# in progress" and is never made. The first commits once the disks answer.
@test "members: a second change while one is in flight gets 409 change in progress and changes nothing" {
	l=$(wait_leader 20)
	wait_until 20 sh -c "curl -s -m 2 '$(node_url "$l")/admin/members' | jq -e '[.members[] | select(.voter)] | length == 3' >/dev/null"
	for i in $(other_node "$l") $(other_node "$l" "$(other_node "$l")"); do
		admin_post "$i" /admin/faults/disk '{"delay_ms":3000,"ms":20000}' | jq -e .faults >/dev/null
	done
	base=$CLUSTER_BASE
	first="{\"op\":\"add\",\"id\":9,\"raft\":\"127.0.0.1:$((base + 52))\",\"auto_promote\":false}"
	( change "$l" "$first"; echo "$status_code $body" >"$BATS_TEST_TMPDIR/first" ) &
	sleep 0.3
	change "$l" "{\"op\":\"add\",\"id\":8,\"raft\":\"127.0.0.1:$((base + 53))\"}"
	echo "second: $status_code $body"
	[ "$status_code" = 409 ]
	[[ "$body" == *"change in progress"* ]]
	wait
	cat "$BATS_TEST_TMPDIR/first"
	# made (200), or not known in time on a loaded machine (504: it may
	# still be made; with ASan at load ~20 it once took longer than the
	# request timeout)
	case $(cut -d' ' -f1 "$BATS_TEST_TMPDIR/first") in 200 | 504) ;; *) false ;; esac
	heal_all
	# the second is never made; the first, if made, is undone
	drop9() {
		l=$(wait_leader 10) || return 1
		members_of "$l" | jq -e 'all(.members[]; .id != 8)' >/dev/null || { echo "the refused change was made" >&2; exit 1; }
		members_of "$l" | jq -e 'all(.members[]; .id != 9)' >/dev/null && return 0
		change "$l" '{"op":"remove","id":9}'
		return 1
	}
	wait_until 30 drop9
	l=$(wait_leader 10)
	members_of "$l" | jq -e 'all(.members[]; .id != 8 and .id != 9)'
	[ "$(voters_of "$l")" = "[0,1,2]" ]
}

# The last voter: a one-node cluster of its own (the cluster of this file
# has three voters, and shrinking it to one would be a test of its own).
@test "members: removing the last voter gets 409 and changes nothing" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts a local process"
	base=$CLUSTER_BASE
	d=$BATS_FILE_TMPDIR/solo
	"$BINDIR/raftkv" --node 5 --http "127.0.0.1:$((base + 50))" \
		--cluster "5,127.0.0.1:$((base + 51)),127.0.0.1:$((base + 50))" --data-dir "$d" >"$d.log" 2>&1 &
	pid=$!
	solo="http://127.0.0.1:$((base + 50))"
	wait_until 10 curl -fs -m 1 -o /dev/null "$solo/readyz"
	curl -s -m 2 -X PUT --data-binary v "$solo/kv/solo" >/dev/null
	http POST "$solo/admin/members" '{"op":"remove","id":5}'
	echo "$status_code $body"
	kill -TERM "$pid"
	wait "$pid" || true
	[ "$status_code" = 409 ]
	[[ "$body" == *"The last voter cannot be removed"* ]]
	# nothing was appended: a restart finds itself the one voter and leads
	"$BINDIR/raftkv" --node 5 --http "127.0.0.1:$((base + 50))" \
		--cluster "5,127.0.0.1:$((base + 51)),127.0.0.1:$((base + 50))" --data-dir "$d" >>"$d.log" 2>&1 &
	pid=$!
	ok=0
	wait_until 10 curl -fs -m 1 -o /dev/null "$solo/readyz" && curl -s -m 2 "$solo/admin/members" | jq -e '.members == [{"id":5,"raft":"127.0.0.1:'$((base + 51))'","http":"127.0.0.1:'$((base + 50))'","voter":true,"match_index":.members[0].match_index}]' && ok=1
	kill -TERM "$pid"
	wait "$pid" || true
	[ "$ok" = 1 ]
}

# A 4th node: started with a --cluster naming it, an empty data dir and an
# incarnation it chose (what --join would do); added as a learner that is
# not auto-promoted, then promoted on request; then removed again.
@test "members: add a 4th node as a learner, promote it, remove it" {
	[ "$RAFTKV_BACKEND" = local ] || skip "starts a 4th node as a local process"
	l=$(wait_leader 20)
	base=$CLUSTER_BASE
	cl="0,127.0.0.1:$((base + 1010)),127.0.0.1:$base;1,127.0.0.1:$((base + 1011)),127.0.0.1:$((base + 1));2,127.0.0.1:$((base + 1012)),127.0.0.1:$((base + 2));3,127.0.0.1:$((base + 1013)),127.0.0.1:$((base + 3))"
	mkdir -p "$CLUSTER_DIR/n3"
	inc=$(( (RANDOM << 16) + RANDOM + 1 ))
	echo "$inc" >"$CLUSTER_DIR/n3/INCARNATION"
	"$BINDIR/raftkv-agent" --listen "127.0.0.1:$((base + 23))" --data-dir "$CLUSTER_DIR/n3" \
		--log "$CLUSTER_DIR/n3.log" -- "$BINDIR/raftkv" --node 3 --http "127.0.0.1:$((base + 3))" \
		--cluster "$cl" --data-dir "$CLUSTER_DIR/n3" --enable-faults >>"$CLUSTER_DIR/agent3.log" 2>&1 &
	echo $! >"$CLUSTER_DIR/agent3.pid"
	wait_until 10 curl -fs -m 1 "$(node_url 3)/healthz"
	status_of 3 | jq -e --arg i "$inc" '.incarnation == $i and .membership == "none" and .role != "leader"'
	kv_put "$l" before-add 1
	[ "$status_code" = 200 ]
	change "$l" "{\"op\":\"add\",\"id\":3,\"raft\":\"127.0.0.1:$((base + 1013))\",\"http\":\"127.0.0.1:$((base + 3))\",\"incarnation\":\"$inc\",\"auto_promote\":false}"
	echo "$body"
	[ "$status_code" = 200 ]
	echo "$body" | jq -e '.members[] | select(.id == 3) | .voter == false'
	# the learner catches up and serves a linearizable read, but is no voter
	wait_until 15 sh -c "curl -s -m 2 '$(node_url 3)/admin/status' | jq -e '.membership == \"learner\" and .applied_index >= .commit_index and .commit_index > 0' >/dev/null"
	kv_get 3 before-add
	[ "$status_code" = 200 ]
	[ "$(voters_of "$l")" = "[0,1,2]" ]
	change "$l" '{"op":"promote","id":3}'
	echo "$body"
	[ "$status_code" = 200 ]
	[ "$(voters_of "$l")" = "[0,1,2,3]" ]
	wait_until 10 sh -c "curl -s -m 2 '$(node_url 3)/admin/status' | jq -e '.membership == \"voter\"' >/dev/null"
	status_of "$l" | jq -e '.members[] | select(.id == 3) | .voter and .match_index > 0'
	# four voters: a write needs three of them
	kv_put 3 after-promote 1
	[ "$status_code" = 200 ]
	# remove a node (not the leader): the others carry on with three voters
	change "$l" '{"op":"remove","id":3}'
	echo "$body"
	[ "$status_code" = 200 ]
	[ "$(voters_of "$l")" = "[0,1,2]" ]
	wait_until 10 sh -c "curl -s -m 2 '$(node_url 3)/admin/status' | jq -e '.membership == \"removed\" and .removed' >/dev/null"
	kv_put "$l" after-remove 1
	[ "$status_code" = 200 ]
	kill -TERM "$(cat "$CLUSTER_DIR/agent3.pid")"
}

# Issue 10 item 1: leader L and follower F1 commit W while F2 is cut off;
# F1 is killed and wiped, L killed, F1 started, F2 healed. The wiped F1 must
# not vote (it comes back as a new incarnation), so F2 cannot lead without
# W; once L returns, W is readable linearizably everywhere and L replaces
# F1's old life by the new one (remove, add learner, promote) by itself.
wipe_round() { # ROUND
	local r=$1 l f1 f2 inc_before inc_after i v
	l=$(wait_leader 30)
	f1=$(other_node "$l")
	f2=$(other_node "$l" "$f1")
	inc_before=$(status_of "$f1" | jq -r .incarnation)
	partition_groups "[[$l,$f1],[$f2]]"
	kv_put "$l" "wipe-$r" "w$r"
	[ "$status_code" = 200 ] || { echo "round $r: W not acked: $status_code $body"; return 1; }
	kill_node "$f1"
	wait_until 10 agent_not_running "$f1"
	agent_post "$f1" wipe >/dev/null
	if [ -n "${PLANT_WIPED_TAKES_ZERO:-}" ]; then
		# the behaviour before incarnations: the wiped node is member 0 again
		mkdir -p "$CLUSTER_DIR/n$f1" && echo 0 >"$CLUSTER_DIR/n$f1/INCARNATION"
	fi
	kill_node "$l"
	wait_until 10 agent_not_running "$l"
	start_node "$f1"
	wait_until 10 curl -fs -m 1 "$(node_url "$f1")/healthz"
	heal_all
	# F2 and the wiped F1 alone: nobody may lead (F1 grants no vote)
	sleep 2
	for i in "$f1" "$f2"; do
		if status_of "$i" | jq -e '.role == "leader"' >/dev/null; then
			echo "round $r: node $i leads without the old leader: $(status_of "$i")"
			return 1
		fi
	done
	status_of "$f1" | jq -e '.membership != "voter"' >/dev/null || { echo "round $r: wiped node votes: $(status_of "$f1")"; return 1; }
	start_node "$l"
	wait_until 30 curl -fs -m 1 "$(node_url "$l")/healthz"
	# W readable linearizably on every node, and all three voters again
	for i in "$l" "$f1" "$f2"; do
		wait_until 40 sh -c "curl -fs -m 2 '$(node_url "$i")/kv/wipe-$r' >/dev/null" ||
			{ echo "round $r: W not readable on $i"; kv_get "$i" "wipe-$r"; echo "$status_code $body"; return 1; }
		kv_get "$i" "wipe-$r"
		v=$(echo "$body" | jq -r .value)
		[ "$v" = "w$r" ] || { echo "round $r: node $i reads $v"; return 1; }
	done
	wait_until 40 sh -c "curl -s -m 2 '$(node_url "$f1")/admin/status' | jq -e '.membership == \"voter\"' >/dev/null" ||
		{ echo "round $r: F1 not voter again: $(status_of "$f1")"; return 1; }
	inc_after=$(status_of "$f1" | jq -r .incarnation)
	[ "$inc_after" != "$inc_before" ] || { echo "round $r: same incarnation $inc_after"; return 1; }
	l=$(wait_leader 30)
	[ "$(voters_of "$l")" = "[0,1,2]" ] || { echo "round $r: voters $(voters_of "$l")"; return 1; }
	wait_until 20 sh -c "for i in 0 1 2; do curl -fs -m 1 \"http://127.0.0.1:\$(($CLUSTER_BASE + i))/readyz\" >/dev/null || exit 1; done"
	echo "round $r ok: leader $l, wiped $f1 ($inc_before -> $inc_after), cut off $f2" | tee -a "${WIPE_LOG:-/dev/null}"
}

@test "members: a wiped node comes back as a new incarnation; nothing acknowledged is lost (issue 10 item 1)" {
	[ "$RAFTKV_BACKEND" = local ] || skip "not yet run on the Docker backend"
	rounds=${RAFTKV_WIPE_ROUNDS:-3}
	for ((r = 1; r <= rounds; r++)); do
		wipe_round "$r"
	done
	for i in 0 1 2; do check_acked_on "$i"; done
}

# The test above can fail: with the wiped node taking incarnation 0 again
# (what every node did before), F2 leads without W. Last in the file: it
# leaves the cluster diverged.
@test "members: planted: a wiped node that takes incarnation 0 again lets a leader without W be elected" {
	[ "$RAFTKV_BACKEND" = local ] || skip "writes into the local data dir"
	PLANT_WIPED_TAKES_ZERO=1 run wipe_round planted
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"leads without the old leader"* || "$output" == *"W not readable"* || "$output" == *"reads"* ]]
}
