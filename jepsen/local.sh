#!/bin/bash
# make jepsen-local ARGS="test --workload register --nemesis partition --time-limit 30"
# Starts a local 5-node cluster under the fault agent (tests/cluster.sh), runs
# the Jepsen test against it, stops the cluster, and exits with Jepsen's status:
# 0 = every history valid, 1 = invalid, 2 = unknown, other = could not run.
# JEPSEN_LOCAL_BASE (24100) and JEPSEN_LOCAL_NODES (5) move or resize it.
# JEPSEN_LOCAL_JOINERS (default 2 when the arguments name the member nemesis,
# else 0): that many of the nodes, the last ones, start empty with --join
# instead of bootstrapping with --cluster, as docker's spares do; only such
# nodes can be replaced (wiped, they join again by themselves). The cluster
# the test sees has all N nodes as voters either way.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BINDIR=${RAFTKV_BIN:-$ROOT/bin}
case $BINDIR in /*) ;; *) BINDIR=$ROOT/$BINDIR ;; esac
base=${JEPSEN_LOCAL_BASE:-24100}
n=${JEPSEN_LOCAL_NODES:-5}
case " $* " in
*member*) joiners=${JEPSEN_LOCAL_JOINERS:-2} ;;
*) joiners=${JEPSEN_LOCAL_JOINERS:-0} ;;
esac
boot=$((n - joiners))
if [ "$joiners" -lt 0 ] || [ "$boot" -lt 1 ]; then
	echo "jepsen-local: JEPSEN_LOCAL_JOINERS=$joiners leaves no node to bootstrap the $n-node cluster" >&2
	exit 3
fi
dir=$(mktemp -d /tmp/raftkv-jepsen-local.XXXXXX)
cleanup() { "$ROOT/tests/cluster.sh" stop "$dir"; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The joiners' ports must be free too (cluster.sh checks only its own).
for ((i = boot; i < n; i++)); do
	for p in $((base + i)) $((base + 20 + i)) $((base + 1010 + i)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "jepsen-local: port $p is in use (another cluster running?)" >&2
			exit 3
		fi
	done
done
if ! RAFTKV_READY_TIMEOUT=60 "$ROOT/tests/cluster.sh" start "$dir" "$boot" "$base"; then
	echo "jepsen-local: the local cluster did not start (logs in $dir)" >&2
	tail -n 5 "$dir"/n*.log >&2 2>/dev/null
	exit 3
fi
# Node i of tests/cluster.sh's layout (HTTP base+i, agent base+20+i, Raft
# base+1010+i), started empty with --join through node 0, under its agent;
# its agent*.pid is where cluster.sh stop finds it.
for ((i = boot; i < n; i++)); do
	mkdir -p "$dir/n$i"
	# shellcheck disable=SC2086
	"$BINDIR/raftkv-agent" --listen "127.0.0.1:$((base + 20 + i))" --data-dir "$dir/n$i" \
		--log "$dir/n$i.log" ${RAFTKV_AGENT_FLAGS:-} -- \
		"$BINDIR/raftkv" --node "$i" --http "127.0.0.1:$((base + i))" \
		--raft "127.0.0.1:$((base + 1010 + i))" --join "http://127.0.0.1:$base" \
		--data-dir "$dir/n$i" --enable-faults ${RAFTKV_NODE_FLAGS:-} \
		>>"$dir/agent$i.log" 2>&1 &
	echo $! >"$dir/agent$i.pid"
done
if [ "$joiners" -gt 0 ]; then
	voters_ok() { # every node a voter in node 0's configuration, every node ready
		local i v
		v=$(curl -fs -m 2 "http://127.0.0.1:$base/admin/members" 2>/dev/null |
			grep -o '"voter":true' | wc -l)
		[ "$v" -eq "$n" ] || return 1
		for ((i = 0; i < n; i++)); do
			curl -fs -m 1 "http://127.0.0.1:$((base + i))/readyz" >/dev/null 2>&1 || return 1
		done
	}
	deadline=$((SECONDS + 60))
	until voters_ok; do
		if [ $SECONDS -ge $deadline ]; then
			echo "jepsen-local: the --join nodes did not become voters within 60 s (logs in $dir)" >&2
			tail -n 5 "$dir"/n*.log >&2 2>/dev/null
			exit 3
		fi
		sleep 0.3
	done
fi
[ $# -gt 0 ] || set -- test
cmd=$1
shift
"$ROOT/jepsen/run.sh" "$cmd" --no-ssh --targets "local:$base:$n" "$@"
