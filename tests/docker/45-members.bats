#!/usr/bin/env bats
# Membership on the compose cluster: the spare services n4 and n5
# (docker/docker-compose.spares.yml, profile "spares") join the running
# 3-node cluster with --join while a workload runs, are promoted, then are
# removed again (5 → 3); the history must check linearizable
# (raftkv-workload --check, then bin/raftkv-check).

load ../bats/helpers

setup_file() {
	[ "$RAFTKV_BACKEND" = docker ] || skip "Docker backend only (RAFTKV_BACKEND=docker)"
	cluster_up 3
}
teardown_file() { cluster_down; } # n4 and n5 go too (raftkv_deployed_size sees them)

members_of() { curl -s -m 3 ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(node_url "$1")/admin/members"; }
voters_of() { members_of "$1" | jq -c '[.members[] | select(.voter) | .id] | sort'; }
leader_voters_are() { local l; l=$(leader_among 0 1 2 3 4); [ -n "$l" ] && [ "$(voters_of "$l")" = "$1" ]; }
show_all() { local i; for i in 0 1 2 3 4; do echo "node $i: $(status_of "$i" | jq -c '{role,term,leader,membership,members:[.members[]|[.id,.voter]]}' 2>/dev/null)"; done; return 1; }
change() { # BODY: to the leader of the moment until 200 (409 in progress / 503 / 504: again)
	local req=$1 deadline=$((SECONDS + 30)) l
	while [ $SECONDS -lt $deadline ]; do
		l=$(leader_among 0 1 2 3 4)
		if [ -n "$l" ]; then
			http POST "$(node_url "$l")/admin/members" "$req"
			echo "change $req on $l: $status_code $body" >&2
			[ "$status_code" = 200 ] && return 0
			case $status_code in 4??) [[ "$body" == *"change in progress"* ]] || return 1 ;; esac
		fi
		sleep 0.5
	done
	return 1
}

@test "docker: the spares join with --join (3 → 5) and are removed (5 → 3) under a checked workload" {
	wait_leader 30 >/dev/null
	urls="" agents=""
	for i in 0 1 2; do urls+="${urls:+,}$(node_url "$i")"; agents+="${agents:+,}$(agent_url "$i")"; done
	h=$BATS_FILE_TMPDIR/members
	"$BINDIR/raftkv-workload" --nodes "$urls" --agents "$agents" ${TOKEN:+--admin-token "$TOKEN"} \
		--key-prefix dmem- --clients 6 --keys 4 --rate 300 --duration 30 --timeout-ms 2000 \
		--check --quiet --history "$h.jsonl" >"$h.out" 2>&1 3>&- &
	wl=$!
	sleep 2
	compose 3 --profile spares up -d n4 n5 >&2
	wait_until 60 leader_voters_are "[0,1,2,3,4]" || show_all
	status_of 3 | jq -e '.join and .membership == "voter"'
	change '{"op":"remove","id":3}'
	change '{"op":"remove","id":4}'
	wait_until 20 leader_voters_are "[0,1,2]" || show_all
	status_of 4 | jq -e '.removed and .membership == "removed"'
	rc=0
	wait "$wl" || rc=$?
	tail -n 20 "$h.out"
	[ "$rc" -eq 0 ]
	[ "$(grep -c '"ok"' "$h.jsonl")" -gt 50 ]
	run "$BINDIR/raftkv-check" "$h.jsonl"
	[ "$status" -eq 0 ]
	docker rm -f n4 n5 >/dev/null
}
