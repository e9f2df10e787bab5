#!/bin/bash
# make jepsen-docker ARGS="test --workload append --nemesis kill --time-limit 60"
# Runs the Jepsen test against the compose cluster (docker/up.sh; 3 nodes, or
# JEPSEN_DOCKER_NODES=5 with docker-compose.5.yml) from this host, through the
# published 127.0.0.1 ports, with the compose admin token.
# A cluster that already answers is used as it is (and left running), unless
# JEPSEN_DOCKER_FRESH=1: then it is replaced by a fresh one (docker/up.sh,
# image $RAFTKV_IMAGE) and removed afterwards, as when none was running.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
n=${JEPSEN_DOCKER_NODES:-3}
export RAFTKV_ADMIN_TOKEN=${RAFTKV_ADMIN_TOKEN:-raftkv-local}
started=0
if [ "${JEPSEN_DOCKER_FRESH:-0}" = 1 ] || ! curl -fs -m 2 http://127.0.0.1:12021/healthz >/dev/null; then
	"$ROOT/docker/up.sh" "$n" || { echo "jepsen-docker: docker/up.sh failed" >&2; exit 3; }
	started=1
fi
[ $# -gt 0 ] || set -- test
cmd=$1
shift
"$ROOT/jepsen/run.sh" "$cmd" --no-ssh --targets "compose:$n" "$@"
rc=$?
[ "$started" = 1 ] && [ -z "${JEPSEN_KEEP_CLUSTER:-}" ] && "$ROOT/docker/down.sh"
exit $rc
