#!/bin/bash
# Starts the compose cluster and waits until every node's /readyz is 200.
#
#   docker/up.sh [3|5]     (default 3; RAFTKV_UP_TIMEOUT seconds to wait, default 60)
#
# Builds raftkv:latest first when it is missing. A cluster already running under the
# project name "raftkv" is replaced, data included. Ports: see docker-compose.yml.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=${1:-3}
case $n in 3 | 5) ;; *) echo "usage: docker/up.sh [3|5]" >&2; exit 2 ;; esac
limit=${RAFTKV_UP_TIMEOUT:-60}

docker info >/dev/null 2>&1 || { echo "docker/up.sh: no Docker engine answers" >&2; exit 1; }
if ! docker image inspect "$RAFTKV_IMAGE" >/dev/null 2>&1; then
	"$RAFTKV_DOCKER_DIR/build.sh"
fi
# A fresh cluster: nothing left over from an earlier run (containers, volumes).
RAFTKV_COMPOSE_EXTRA='' compose "$(raftkv_deployed_size)" down -v --remove-orphans -t 5 >/dev/null 2>&1 || true
for k in 1 2 3 4 5; do
	if docker inspect "n$k" >/dev/null 2>&1; then
		echo "docker/up.sh: a container named n$k exists outside the compose project \"$RAFTKV_PROJECT\"; remove it first (docker rm -f n$k)" >&2
		exit 1
	fi
done
if ! out=$(compose "$n" up -d --remove-orphans 2>&1); then
	printf '%s\n' "$out" >&2
	echo "docker/up.sh: compose up failed" >&2
	exit 1
fi
if ! raftkv_wait_ready "$n" "$limit"; then
	echo "docker/up.sh: cluster not ready; it is left running for a look (docker/down.sh removes it)" >&2
	exit 1
fi
echo "raftkv: $n nodes ready; HTTP on 127.0.0.1:12021-$((12020 + n)), agents on 127.0.0.1:12041-$((12040 + n)), admin token \"${RAFTKV_ADMIN_TOKEN:-raftkv-local}\""
