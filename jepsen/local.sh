#!/bin/bash
# make jepsen-local ARGS="test --workload register --nemesis partition --time-limit 30"
# Starts a local 5-node cluster under the fault agent (tests/cluster.sh), runs
# the Jepsen test against it, stops the cluster, and exits with Jepsen's status:
# 0 = every history valid, 1 = invalid, 2 = unknown, other = could not run.
# JEPSEN_LOCAL_BASE (24100) and JEPSEN_LOCAL_NODES (5) move or resize it.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
base=${JEPSEN_LOCAL_BASE:-24100}
n=${JEPSEN_LOCAL_NODES:-5}
dir=$(mktemp -d /tmp/raftkv-jepsen-local.XXXXXX)
cleanup() { "$ROOT/tests/cluster.sh" stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! RAFTKV_READY_TIMEOUT=60 "$ROOT/tests/cluster.sh" start "$dir" "$n" "$base"; then
	echo "jepsen-local: the local cluster did not start (logs in $dir)" >&2
	tail -n 5 "$dir"/n*.log >&2 2>/dev/null
	exit 3
fi
[ $# -gt 0 ] || set -- test
cmd=$1
shift
"$ROOT/jepsen/run.sh" "$cmd" --no-ssh --targets "local:$base:$n" "$@"
