# Shared helpers of the bats suite. One suite, two backends:
#   RAFTKV_BACKEND=local  (default) nodes as local processes under bin/raftkv-agent
#   RAFTKV_BACKEND=docker the compose cluster (tests/docker/backend.bash overrides
#                         cluster_up/cluster_down/node_url/agent_url/...)
# Every test file calls cluster_up in setup_file (or setup) and cluster_down in
# teardown, so nothing outlives a failing test.

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BINDIR=${RAFTKV_BIN:-$ROOT/bin}
case $BINDIR in /*) ;; *) BINDIR=$ROOT/$BINDIR ;; esac
RAFTKV_BACKEND=${RAFTKV_BACKEND:-local}
TOKEN=${RAFTKV_ADMIN_TOKEN:-}

# ---------------------------------------------------------------- local backend
# Each test file gets its own port range so a leftover from one file never
# answers for another: BASE = 21000 + 100 * ((f + c) mod 80), where f is a
# hash of the file's base name and c one of the checkout's path. The base
# names' hashes are distinct mod 80 (tests/bats/run.sh checks it), so two files
# of one run never share a base whatever the path; c only moves the whole
# suite so that runs from two checkouts on one machine are unlikely to meet
# (and tests/cluster.sh refuses to start on ports already in use). Within a
# base the offsets are disjoint mod 100: HTTP +0..4, Raft +1010..1014, agents
# +20..24 and the tests' own +50..71, so different bases never share a port.
_cksum() { printf '%s' "$1" | cksum | cut -d' ' -f1; }
_base_port() {
	local f c
	f=$(_cksum "$(basename "$BATS_TEST_FILENAME")")
	c=$(_cksum "$ROOT")
	echo $((21000 + 100 * ((f + c) % 80)))
}

cluster_up() { # [N]
	CLUSTER_N=${1:-3}
	CLUSTER_DIR=$BATS_FILE_TMPDIR/cluster
	CLUSTER_BASE=$(_base_port)
	export CLUSTER_N CLUSTER_DIR CLUSTER_BASE
	if ! RAFTKV_BIN=$BINDIR RAFTKV_READY_TIMEOUT=45 "$ROOT/tests/cluster.sh" start "$CLUSTER_DIR" "$CLUSTER_N" "$CLUSTER_BASE"; then
		# say why, and leave nothing running behind a failed setup
		local i
		for ((i = 0; i < CLUSTER_N; i++)); do
			echo "--- node $i: $(curl -s -m 2 "$(node_url "$i")/admin/status")"
			tail -n 15 "$CLUSTER_DIR/n$i.log" 2>/dev/null
		done
		"$ROOT/tests/cluster.sh" stop "$CLUSTER_DIR"
		return 1
	fi
}

cluster_down() {
	[ -n "${CLUSTER_DIR:-}" ] && "$ROOT/tests/cluster.sh" stop "$CLUSTER_DIR"
	return 0
}

node_url() { echo "http://127.0.0.1:$((CLUSTER_BASE + $1))"; }
agent_url() { echo "http://127.0.0.1:$((CLUSTER_BASE + 20 + $1))"; }
raft_port() { echo $((CLUSTER_BASE + 1010 + $1)); }
node_log() { cat "$CLUSTER_DIR/n$1.log" 2>/dev/null; }


# ---------------------------------------------------------------- HTTP helpers
_auth() { [ -n "$TOKEN" ] && printf -- '-H\nAuthorization: Bearer %s\n' "$TOKEN"; }

# http METHOD URL [BODY] → sets $status_code and $body (curl exit in $curl_rc)
http() {
	local method=$1 url=$2 data=${3-} out
	local -a auth=()
	[ -n "$TOKEN" ] && auth=(-H "Authorization: Bearer $TOKEN")
	if [ $# -ge 3 ]; then
		out=$(curl -s -m "${HTTP_TIMEOUT:-8}" -X "$method" "${auth[@]}" --data-binary "$data" -w '\n%{http_code}' "$url") && curl_rc=0 || curl_rc=$?
	else
		out=$(curl -s -m "${HTTP_TIMEOUT:-8}" -X "$method" "${auth[@]}" -w '\n%{http_code}' "$url") && curl_rc=0 || curl_rc=$?
	fi
	status_code=${out##*$'\n'}
	body=${out%$'\n'*}
	[ "$curl_rc" -ne 0 ] && status_code=000
	return 0
}

kv_put() { http PUT "$(node_url "$1")/kv/$2" "$3"; }   # NODE KEY VALUE
kv_get() { http GET "$(node_url "$1")/kv/$2${3:+?consistency=$3}"; } # NODE KEY [consistency]
status_of() { curl -s -m 2 ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(node_url "$1")/admin/status" "${@:2}"; }

# The leader id agreed by every reachable node that knows one, or "" if none.
leader_id() {
	local i l ids=()
	for ((i = 0; i < CLUSTER_N; i++)); do
		l=$(status_of "$i" | jq -r 'select(.role=="leader") | .id' 2>/dev/null)
		[ -n "$l" ] && ids+=("$l")
	done
	[ ${#ids[@]} -eq 1 ] && echo "${ids[0]}"
	return 0
}

# wait_leader [TIMEOUT_S] [EXCLUDE_ID] → prints the leader id
wait_leader() {
	local limit=${1:-15} exclude=${2:-} l deadline=$((SECONDS + ${1:-15}))
	while [ $SECONDS -lt $deadline ]; do
		l=$(leader_id)
		if [ -n "$l" ] && [ "$l" != "$exclude" ]; then
			echo "$l"
			return 0
		fi
		sleep 0.2
	done
	echo "no leader within ${limit}s" >&2
	return 1
}

# A node id other than the given ones.
other_node() {
	local i x skip
	for ((i = 0; i < CLUSTER_N; i++)); do
		skip=0
		for x in "$@"; do [ "$i" = "$x" ] && skip=1; done
		[ $skip -eq 0 ] && { echo "$i"; return 0; }
	done
	return 1
}

agent_post() { # NODE ACTION [BODY]
	local -a auth=()
	[ -n "$TOKEN" ] && auth=(-H "Authorization: Bearer $TOKEN")
	curl -s -m 10 -X POST "${auth[@]}" ${3:+--data-binary "$3"} "$(agent_url "$1")/agent/$2"
}
kill_node() { agent_post "$1" kill >/dev/null; }
agent_state() { curl -s -m 3 ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(agent_url "$1")/agent/status" | jq -r .state; }
agent_state_is() { [ "$(agent_state "$1")" = "$2" ]; }       # NODE STATE
agent_not_running() { [ "$(agent_state "$1")" != running ]; } # NODE
start_node() { agent_post "$1" start >/dev/null; }

admin_post() { # NODE PATH BODY
	local -a auth=()
	[ -n "$TOKEN" ] && auth=(-H "Authorization: Bearer $TOKEN")
	curl -s -m 5 -X POST "${auth[@]}" --data-binary "${3:-{\}}" "$(node_url "$1")$2"
}
heal_all() {
	local i
	for ((i = 0; i < CLUSTER_N; i++)); do
		curl -s -m 3 -X DELETE ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(node_url "$i")/admin/faults" >/dev/null || true
		curl -s -m 3 -X DELETE ${TOKEN:+-H "Authorization: Bearer $TOKEN"} "$(node_url "$i")/admin/bugs" >/dev/null || true
	done
}

# wait_until TIMEOUT_S CMD... — polls CMD until it succeeds.
wait_until() {
	local limit=$1 deadline=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $deadline ]; do
		"$@" && return 0
		sleep 0.2
	done
	echo "condition not met within ${limit}s: $*" >&2
	return 1
}

# Writes keys prefix-1..prefix-N through rotating nodes; records every acked
# write in $BATS_FILE_TMPDIR/acked (key value per line). Failures are allowed.
write_many() { # PREFIX COUNT
	local i node
	for ((i = 1; i <= $2; i++)); do
		node=$((i % CLUSTER_N))
		kv_put "$node" "$1-$i" "v$i"
		[ "$status_code" = 200 ] && echo "$1-$i v$i" >>"$BATS_FILE_TMPDIR/acked"
	done
	return 0
}

# Every acknowledged write is readable (linearizable read) from node $1.
check_acked_on() {
	local k v
	[ -f "$BATS_FILE_TMPDIR/acked" ] || return 0
	while read -r k v; do
		kv_get "$1" "$k"
		if [ "$status_code" != 200 ] || [ "$(echo "$body" | jq -r .value)" != "$v" ]; then
			echo "lost acknowledged write $k=$v on node $1: $status_code $body" >&2
			return 1
		fi
	done <"$BATS_FILE_TMPDIR/acked"
}

# The Docker backend overrides what it must; sourced last so it can replace any helper.
if [ "$RAFTKV_BACKEND" = docker ]; then
	# shellcheck source=/dev/null
	. "$ROOT/tests/docker/backend.bash"
fi
