#!/bin/bash
# `make test-docker`: the bats suite on the Docker backend (the compose cluster of
# docker/docker-compose.yml), then the Docker-only tests in tests/docker/*.bats.
# Ends with "docker: N passed, N failed". Skips, exit 0, when no Docker engine answers.
#
#   tests/docker/run.sh [bats files or dirs]     (default: tests/bats tests/docker)
#
# Builds raftkv:latest first (docker/build.sh; set RAFTKV_SKIP_IMAGE_BUILD=1 to use the
# image as it is). Containers, network and volumes are removed on exit, pass or fail.
set -u
cd "$(dirname "$0")/../.." || exit 1

if ! command -v docker >/dev/null 2>&1 || ! timeout 20 docker info >/dev/null 2>&1; then
	echo "docker: no engine, skipped docker tests"
	exit 0
fi
# shellcheck source=../../docker/lib.sh
. docker/lib.sh
if [ -z "$RAFTKV_COMPOSE" ]; then
	echo "docker: no Compose tool (docker compose / docker-compose), skipped docker tests"
	exit 0
fi

# One run at a time on a machine: the cluster's container names and ports are fixed,
# so a second run would tear down the first one's nodes. Wait for the other run.
lock=${RAFTKV_DOCKER_LOCK:-/tmp/raftkv-docker-tests.lock}
exec 9>>"$lock"
if ! flock -n 9; then
	echo "docker: another docker test run holds $lock; waiting up to ${RAFTKV_DOCKER_LOCK_WAIT:-300}s"
	if ! flock -w "${RAFTKV_DOCKER_LOCK_WAIT:-300}" 9; then
		echo "docker: still locked by another run; not started"
		echo "docker: 0 passed, 1 failed"
		exit 1
	fi
fi

cleanup() {
	RAFTKV_COMPOSE_EXTRA='' compose "$(raftkv_deployed_size)" down -v --remove-orphans -t 5 >/dev/null 2>&1
	docker network rm "$RAFTKV_NETWORK" >/dev/null 2>&1
	# the bare-Debian containers of 50-readme.bats, if a run was cut short
	docker ps -aq --filter label=raftkv-bare | xargs -r docker rm -f >/dev/null 2>&1
	return 0
}
trap cleanup EXIT
child=
stop() { # on INT/TERM: end the tests (their own process group), then clean up
	[ -n "$child" ] && kill -TERM -- "-$child" 2>/dev/null
	exit 143
}
trap stop INT TERM

t0=$(date +%s)
if [ "${RAFTKV_SKIP_IMAGE_BUILD:-0}" != 1 ] || ! docker image inspect "$RAFTKV_IMAGE" >/dev/null 2>&1; then
	if ! docker/build.sh; then
		echo "docker: image build failed"
		echo "docker: 0 passed, 1 failed"
		exit 1
	fi
fi
t1=$(date +%s)
echo "docker: image ready in $((t1 - t0))s"
cleanup

# The helpers run bin/raftkv on the host in a few tests (flag checks): the same build.
export RAFTKV_BACKEND=docker
unset RAFTKV_ADMIN_TOKEN RAFTKV_NODE_FLAGS RAFTKV_AGENT_FLAGS RAFTKV_COMPOSE_EXTRA
[ $# -eq 0 ] && set -- tests/bats tests/docker
# In its own process group, in the background, so a signal here can end it at once.
setsid tests/bats/run.sh docker "$@" &
child=$!
wait "$child"
rc=$?
child=
echo "docker: tests took $(($(date +%s) - t1))s"
exit "$rc"
