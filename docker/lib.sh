# shellcheck shell=bash
# Sourced by docker/up.sh, docker/down.sh and tests/docker/*: the compose command and
# the cluster's layout (see docker-compose.yml for the port and address scheme).
RAFTKV_DOCKER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RAFTKV_PROJECT=${RAFTKV_PROJECT:-raftkv}
RAFTKV_IMAGE=${RAFTKV_IMAGE:-raftkv:latest}
RAFTKV_NET_PREFIX=${RAFTKV_NET_PREFIX:-172.31.240}
RAFTKV_NETWORK=raftkv # the compose network's fixed name
export RAFTKV_NETWORK
export RAFTKV_IMAGE RAFTKV_NET_PREFIX

# The Compose tool: the `docker compose` plugin when present, else docker-compose (v1).
if [ -z "${RAFTKV_COMPOSE:-}" ]; then
	if docker compose version >/dev/null 2>&1; then
		RAFTKV_COMPOSE="docker compose"
	elif command -v docker-compose >/dev/null 2>&1; then
		RAFTKV_COMPOSE=docker-compose
	else
		RAFTKV_COMPOSE=
	fi
fi

# compose N ARGS... — runs Compose on the N-node (3 or 5) project.
compose() {
	local n=$1
	shift
	[ -n "$RAFTKV_COMPOSE" ] || { echo "neither 'docker compose' nor docker-compose is installed" >&2; return 1; }
	local -a files=(-f "$RAFTKV_DOCKER_DIR/docker-compose.yml")
	# 3 nodes: the spares n4 and n5 are defined too, under the profile "spares"
	# (started only with --profile spares); 5 nodes: n4 and n5 are bootstrap members.
	if [ "$n" -gt 3 ]; then
		files+=(-f "$RAFTKV_DOCKER_DIR/docker-compose.5.yml")
	else
		files+=(-f "$RAFTKV_DOCKER_DIR/docker-compose.spares.yml")
	fi
	# RAFTKV_COMPOSE_EXTRA: more override files, colon-separated (the bats backend's).
	local f
	local IFS=:
	for f in ${RAFTKV_COMPOSE_EXTRA:-}; do [ -n "$f" ] && files+=(-f "$f"); done
	unset IFS
	# shellcheck disable=SC2086
	$RAFTKV_COMPOSE -p "$RAFTKV_PROJECT" "${files[@]}" "$@"
}

# Node K (1-based container number) → its host ports and address.
raftkv_http_port() { echo $((12020 + $1)); }
raftkv_agent_port() { echo $((12040 + $1)); }
raftkv_raft_port() { echo $((13030 + $1)); }
raftkv_ip() { echo "$RAFTKV_NET_PREFIX.$((10 + $1))"; }

# raftkv_wait_ready N TIMEOUT_S — every node's /readyz answers 200, or a report and 1.
raftkv_wait_ready() {
	local n=$1 limit=$2 k ok code deadline=$((SECONDS + $2))
	while :; do
		ok=0
		for ((k = 1; k <= n; k++)); do
			code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$(raftkv_http_port "$k")/readyz" 2>/dev/null)
			[ "$code" = 200 ] && ok=$((ok + 1))
		done
		[ "$ok" -eq "$n" ] && return 0
		[ $SECONDS -ge "$deadline" ] && break
		sleep 0.3
	done
	{
		echo "raftkv: only $ok of $n nodes ready after ${limit}s"
		for ((k = 1; k <= n; k++)); do
			code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$(raftkv_http_port "$k")/readyz" 2>/dev/null)
			echo "--- n$k: container $(docker inspect -f '{{.State.Status}}' "n$k" 2>/dev/null || echo missing), /readyz $code"
			docker logs --tail 5 "n$k" 2>&1 | sed 's/^/    agent: /'
			docker exec "n$k" tail -n 10 /var/lib/raftkv/node.log 2>/dev/null | sed 's/^/    node:  /'
		done
	} >&2
	return 1
}

# 5 when the 5-node variant's extra nodes or volumes exist, else 3: which files `down` needs.
raftkv_deployed_size() {
	local k
	for k in 4 5; do
		docker inspect "n$k" >/dev/null 2>&1 && { echo 5; return; }
		docker volume inspect "${RAFTKV_PROJECT}_n$k-data" >/dev/null 2>&1 && { echo 5; return; }
	done
	echo 3
}
