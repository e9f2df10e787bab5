# Helpers for the membership tests that change the configuration under a
# checked workload: tests/bats/27-grow-shrink.bats (local processes) and
# tests/docker/45-members.bats (the compose cluster and its spares). Loaded
# after helpers.bash (node_url, agent_url, status_of, http, BINDIR, TOKEN).

members_of() { curl -s -m 3 ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(node_url "$1")/admin/members"; }
voters_of() { members_of "$1" | jq -c '[.members[] | select(.voter) | .id] | sort'; }
# All ids that may run in these files: current_leader asks each one that answers.
all_ids() { echo 0 1 2 3 4; }
current_leader() {
	local i l ids=()
	for i in $(all_ids); do
		l=$(status_of "$i" | jq -r 'select(.role=="leader") | .id' 2>/dev/null)
		[ -n "$l" ] && ids+=("$l")
	done
	[ ${#ids[@]} -eq 1 ] && echo "${ids[0]}"
	return 0
}
leader_voters_are() { local l; l=$(current_leader); [ -n "$l" ] && [ "$(voters_of "$l")" = "$1" ]; }
membership_is() { status_of "$1" | jq -e --arg m "$2" '.membership == $m' >/dev/null; } # NODE STATE
# On a failed wait: every node's view, for the log.
show_all() { local i; for i in $(all_ids); do echo "node $i: $(status_of "$i" | jq -c '{role,term,leader,membership,commit_index,applied_index,members:[.members[]|[.id,.voter,.match_index]]}' 2>/dev/null)"; done; return 1; }

# change BODY: POST to the leader of the moment until 200 (a 409 for a
# change in progress, a 503 after leadership moved, a 504: asked again; a
# retried remove or add that already happened answers 404 / 409 "already").
change() {
	local req=$1 deadline=$((SECONDS + 20)) l
	while [ $SECONDS -lt $deadline ]; do
		l=$(current_leader)
		if [ -n "$l" ]; then
			http POST "$(node_url "$l")/admin/members" "$req"
			echo "change $req on $l: $status_code $body" >&2
			[ "$status_code" = 200 ] && return 0
			case $status_code in 4??) [[ "$body" == *"change in progress"* ]] || return 1 ;; esac
		fi
		sleep 0.3
	done
	return 1
}

# workload_start NAME NODE...: raftkv-workload in the background on those nodes.
workload_start() {
	local name=$1 i urls="" agents=""
	shift
	for i in "$@"; do
		urls+="${urls:+,}$(node_url "$i")"
		agents+="${agents:+,}$(agent_url "$i")"
	done
	WL_NAME=$name
	"$BINDIR/raftkv-workload" --nodes "$urls" --agents "$agents" ${TOKEN:+--admin-token "$TOKEN"} \
		--key-prefix "$name-" --clients 6 --keys 4 --rate 500 --duration "${WL_SECONDS:-12}" --timeout-ms 1500 \
		--check --quiet --history "$BATS_FILE_TMPDIR/$name.jsonl" \
		--summary "$BATS_FILE_TMPDIR/$name.json" >"$BATS_FILE_TMPDIR/$name.out" 2>&1 3>&- &
	WL_PID=$!
	sleep 2 # the run has started (readiness checked, keys checked absent)
}
# workload_wait: its verdict must be linearizable, with real work done.
workload_wait() {
	local rc=0
	wait "$WL_PID" || rc=$?
	tail -n 20 "$BATS_FILE_TMPDIR/$WL_NAME.out"
	[ "$rc" -eq 0 ]
	[ "$(grep -c '"ok"' "$BATS_FILE_TMPDIR/$WL_NAME.jsonl")" -gt 50 ]
	run "$BINDIR/raftkv-check" "$BATS_FILE_TMPDIR/$WL_NAME.jsonl"
	[ "$status" -eq 0 ]
}
