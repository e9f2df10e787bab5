# The bats suite's Docker backend: sourced by tests/bats/helpers.bash when
# RAFTKV_BACKEND=docker, and by the Docker-only tests in tests/docker/*.bats.
#
# The cluster is docker/docker-compose.yml (+ docker-compose.5.yml for 5 nodes) under the
# compose project "raftkv": node id i runs in container n$((i+1)) at RAFTKV_NET_PREFIX.(11+i)
# on the network "raftkv". Host ports keep tests/cluster.sh's offsets with CLUSTER_BASE=12021:
# HTTP CLUSTER_BASE+i, agent CLUSTER_BASE+20+i, Raft CLUSTER_BASE+1010+i.
#
# The test's node and agent flags are honoured as in the local backend: cluster_up writes
# a compose override whose commands carry RAFTKV_NODE_FLAGS / RAFTKV_AGENT_FLAGS (so there
# is no admin token unless a test asks for one, exactly as with local processes).
#
# Same functions as the local backend: cluster_up [N], cluster_down, node_url I, agent_url I,
# raft_port I, node_log I (kill_node/start_node go through the agent in both backends).
# Docker-only: container_of I, docker_kill I, docker_start I, docker_restart I,
# docker_pause I, docker_unpause I, net_disconnect I, net_connect I, docker_heal,
# leader_among I..., wait_leader_among TIMEOUT I..., wait_node_ready I [TIMEOUT].

# shellcheck source=/dev/null
. "${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/docker/lib.sh"

CLUSTER_BASE=12021
export CLUSTER_BASE

container_of() { echo "n$(($1 + 1))"; }

# _joiner_service K VIA: the compose service of container nK (node id K-1) as a
# node that joins with --join through container nVIA, with the test's flags.
_joiner_service() {
	local k=$1 via=$2 a
	printf '  n%d:\n    command: [' "$k"
	printf '"--listen", ":2040", "--data-dir", "/var/lib/raftkv"'
	# shellcheck disable=SC2086
	for a in ${RAFTKV_AGENT_FLAGS:-}; do printf ', %s' "$(_q "$a")"; done
	printf ', "--", "raftkv", "--node", "%d", "--http", ":2020", "--raft", "n%d:3030"' "$((k - 1))" "$k"
	printf ', "--join", "http://n%d:2020", "--data-dir", "/var/lib/raftkv", "--enable-faults"' "$via"
	# shellcheck disable=SC2086
	for a in ${RAFTKV_NODE_FLAGS:-}; do printf ', %s' "$(_q "$a")"; done
	printf ']\n'
}
# JSON strings are YAML strings; "$" doubled so Compose does not interpolate.
_q() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; s=${s//\$/\$\$}; printf '"%s"' "$s"; }

# _compose_override N FILE: commands for nodes 0..N-1 with the test's flags.
_compose_override() {
	local n=$1 file=$2 i k cluster="" a
	for ((i = 0; i < n; i++)); do
		cluster+="$i,n$((i + 1)):3030,n$((i + 1)):2020"
		[ $i -lt $((n - 1)) ] && cluster+=";"
	done
	{
		echo 'version: "2.4"'
		echo 'services:'
		for ((i = 0; i < n; i++)); do
			k=$((i + 1))
			printf '  n%d:\n    command: [' "$k"
			printf '"--listen", ":2040", "--data-dir", "/var/lib/raftkv"'
			# shellcheck disable=SC2086
			for a in ${RAFTKV_AGENT_FLAGS:-}; do printf ', %s' "$(_q "$a")"; done
			printf ', "--", "raftkv", "--node", "%d", "--http", ":2020", "--data-dir", "/var/lib/raftkv", "--enable-faults"' "$i"
			# shellcheck disable=SC2086
			for a in ${RAFTKV_NODE_FLAGS:-}; do printf ', %s' "$(_q "$a")"; done
			printf ', "--cluster", %s]\n' "$(_q "$cluster")"
		done
		# The spares of a 3-node cluster (docker-compose.spares.yml, profile
		# "spares"): the same flags, joining through n1.
		for ((k = n + 1; n == 3 && k <= 5; k++)); do _joiner_service "$k" 1; done
	} >"$file"
}

cluster_up() { # [N]
	CLUSTER_N=${1:-3}
	export CLUSTER_N
	local dir=${BATS_FILE_TMPDIR:-${BATS_TMPDIR:-/tmp}}
	RAFTKV_COMPOSE_EXTRA=$dir/compose.override.yml
	export RAFTKV_COMPOSE_EXTRA
	_compose_override "$CLUSTER_N" "$RAFTKV_COMPOSE_EXTRA"
	RAFTKV_UP_TIMEOUT=${RAFTKV_UP_TIMEOUT:-45} "$RAFTKV_DOCKER_DIR/up.sh" "$CLUSTER_N" >&2
}

# docker_rejoin I VIA: a new machine in node I's place. Its container and
# volume are removed, and a container with the same name, address and ports
# but an empty volume starts as a node that joins with --join through node
# VIA (a removed node comes back this way: node/server/README.md "Joining").
# Stays that way until cluster_down.
docker_rejoin() {
	local i=$1 via=$2 k=$(($1 + 1)) dir=${BATS_FILE_TMPDIR:-${BATS_TMPDIR:-/tmp}}
	local file=$dir/compose.rejoin-n$k.yml
	{
		echo 'version: "2.4"'
		echo 'services:'
		_joiner_service "$k" "$((via + 1))"
	} >"$file" || return 1
	docker rm -f "n$k" >/dev/null || return 1
	docker volume rm "${RAFTKV_PROJECT}_n$k-data" >/dev/null || return 1
	RAFTKV_COMPOSE_EXTRA=$RAFTKV_COMPOSE_EXTRA:$file compose "$CLUSTER_N" up -d --no-deps "n$k" >&2
}

cluster_down() {
	docker_heal
	RAFTKV_COMPOSE_EXTRA='' compose "$(raftkv_deployed_size)" down -v --remove-orphans -t 5 >/dev/null 2>&1 || true
	return 0
}

node_url() { echo "http://127.0.0.1:$((CLUSTER_BASE + $1))"; }
agent_url() { echo "http://127.0.0.1:$((CLUSTER_BASE + 20 + $1))"; }
raft_port() { echo $((CLUSTER_BASE + 1010 + $1)); }


node_log() { # I: the node's log file (through the agent, else straight from the container)
	local -a auth=()
	[ -n "${TOKEN:-}" ] && auth=(-H "Authorization: Bearer $TOKEN")
	curl -fs -m 5 "${auth[@]}" "$(agent_url "$1")/agent/logs" 2>/dev/null ||
		docker exec "$(container_of "$1")" cat /var/lib/raftkv/node.log 2>/dev/null
	return 0
}

# --------------------------------------------------------------- container faults
docker_kill() { docker kill "$(container_of "$1")" >/dev/null; }     # SIGKILL agent and node
docker_restart() { docker restart -t 10 "$(container_of "$1")" >/dev/null; } # SIGTERM, then start
docker_pause() { docker pause "$(container_of "$1")" >/dev/null; }   # cgroup freezer
docker_unpause() { docker unpause "$(container_of "$1")" >/dev/null; }
docker_start() { docker start "$(container_of "$1")" >/dev/null; }

# A real partition: the container leaves the cluster network (its host ports go with it).
net_disconnect() { docker network disconnect "$RAFTKV_NETWORK" "$(container_of "$1")" >/dev/null; }
# Back at the same address, with its name as alias, so peers find it where they left it.
net_connect() {
	local c
	c=$(container_of "$1")
	docker network connect --ip "$(raftkv_ip $(($1 + 1)))" --alias "$c" "$RAFTKV_NETWORK" "$c" >/dev/null
}

_connected() { # I: is the container on the cluster network?
	docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$(container_of "$1")" 2>/dev/null |
		grep -qw "$RAFTKV_NETWORK"
}

# Undo every container-level fault: unpause, start, reconnect. Safe to call any time.
docker_heal() {
	local i c state n=${CLUSTER_N:-5}
	for ((i = 0; i < n; i++)); do
		c=$(container_of "$i")
		state=$(docker inspect -f '{{.State.Status}}' "$c" 2>/dev/null) || continue
		[ "$state" = paused ] && docker unpause "$c" >/dev/null 2>&1
		[ "$state" = exited ] || [ "$state" = created ] && docker start "$c" >/dev/null 2>&1
		_connected "$i" || net_connect "$i" 2>/dev/null
	done
	return 0
}

wait_node_ready() { # I [TIMEOUT_S]
	wait_until "${2:-30}" curl -fs -m 1 -o /dev/null "$(node_url "$1")/readyz"
}

_status() { # I: /admin/status, with the token when there is one
	local -a auth=()
	[ -n "${TOKEN:-}" ] && auth=(-H "Authorization: Bearer $TOKEN")
	curl -s -m 2 "${auth[@]}" "$(node_url "$1")/admin/status"
}

# The leader agreed by every node in the list that names one as leader, or "".
leader_among() { # I...
	local i l ids=()
	for i in "$@"; do
		l=$(_status "$i" | jq -r 'select(.role=="leader") | .id' 2>/dev/null)
		[ -n "$l" ] && ids+=("$l")
	done
	[ ${#ids[@]} -eq 1 ] && echo "${ids[0]}"
	return 0
}

wait_leader_among() { # TIMEOUT_S I... → prints the leader id
	local limit=$1 l deadline=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $deadline ]; do
		l=$(leader_among "$@")
		[ -n "$l" ] && { echo "$l"; return 0; }
		sleep 0.2
	done
	echo "no leader among nodes $* within ${limit}s" >&2
	return 1
}

# status_of and heal_all with the token. helpers.bash defines its own (tokenless) ones
# after sourcing this file, so these take effect only once helpers.bash sources this
# file last; the suite runs without a token by default, where both are the same.
status_of() { _status "$1"; }
heal_all() {
	local i
	local -a auth=()
	[ -n "${TOKEN:-}" ] && auth=(-H "Authorization: Bearer $TOKEN")
	for ((i = 0; i < CLUSTER_N; i++)); do
		curl -s -m 3 -X DELETE "${auth[@]}" "$(node_url "$i")/admin/faults" >/dev/null || true
		curl -s -m 3 -X DELETE "${auth[@]}" "$(node_url "$i")/admin/bugs" >/dev/null || true
	done
}
