#!/bin/bash
# Stops the compose cluster (3 or 5 nodes) and removes its containers, network and volumes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
docker info >/dev/null 2>&1 || { echo "docker/down.sh: no Docker engine answers" >&2; exit 1; }
RAFTKV_COMPOSE_EXTRA='' compose "$(raftkv_deployed_size)" down -v --remove-orphans -t "${RAFTKV_STOP_TIMEOUT:-10}"
