#!/bin/bash
# Local cluster launcher, used by `make run`, the bats suite and `make bench`.
#
#   tests/cluster.sh run                  3 nodes in the foreground, Ctrl-C stops them
#   tests/cluster.sh start DIR N [BASE]   start N nodes in the background under DIR
#   tests/cluster.sh stop DIR             stop what `start` started under DIR
#
# Ports for node i (BASE defaults to 2020, as the contract's examples):
#   HTTP BASE+i, Raft BASE+1010+i, agent BASE+20+i
# so BASE=2020 gives HTTP 2020-2022, Raft 3030-3032, agents 2040-2042.
# Every node runs under the fault agent (bin/raftkv-agent), with faults enabled.
# Extra node flags: RAFTKV_NODE_FLAGS; binaries from RAFTKV_BIN (default bin).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BINDIR=${RAFTKV_BIN:-$ROOT/bin}
case $BINDIR in /*) ;; *) BINDIR=$ROOT/$BINDIR ;; esac

cluster_string() { # N BASE
	local n=$1 base=$2 s="" i
	for ((i = 0; i < n; i++)); do
		s+="$i,127.0.0.1:$((base + 1010 + i)),127.0.0.1:$((base + i))"
		[ $i -lt $((n - 1)) ] && s+=";"
	done
	echo "$s"
}

# Fails if anything listens on a port the cluster would use: another cluster
# there would answer /readyz in place of ours and the caller would talk to it.
ports_free() { # N BASE
	local n=$1 base=$2 i p busy=()
	for ((i = 0; i < n; i++)); do
		for p in $((base + i)) $((base + 20 + i)) $((base + 1010 + i)); do
			(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && busy+=("$p")
		done
	done
	[ ${#busy[@]} -eq 0 ] && return 0
	echo "ports in use (another cluster running?): ${busy[*]}" >&2
	return 1
}

start() { # DIR N BASE
	local dir=$1 n=$2 base=$3 i cluster
	ports_free "$n" "$base" || return 1
	mkdir -p "$dir"
	cluster=$(cluster_string "$n" "$base")
	for ((i = 0; i < n; i++)); do
		mkdir -p "$dir/n$i"
		# shellcheck disable=SC2086
		"$BINDIR/raftkv-agent" --listen "127.0.0.1:$((base + 20 + i))" --data-dir "$dir/n$i" \
			--log "$dir/n$i.log" ${RAFTKV_AGENT_FLAGS:-} -- \
			"$BINDIR/raftkv" --node "$i" --http "127.0.0.1:$((base + i))" --cluster "$cluster" \
			--data-dir "$dir/n$i" --enable-faults ${RAFTKV_NODE_FLAGS:-} \
			>>"$dir/agent$i.log" 2>&1 &
		echo $! >"$dir/agent$i.pid"
	done
	echo "$n" >"$dir/size"
	echo "$base" >"$dir/base"
}

stop() { # DIR
	local dir=$1 f pid
	for f in "$dir"/agent*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null || true
	done
	for f in "$dir"/agent*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$f"
	done
}

wait_ready() { # N BASE TIMEOUT_S
	local n=$1 base=$2 limit=$3 i ok deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ]; do
		ok=0
		for ((i = 0; i < n; i++)); do
			curl -fs -m 1 "http://127.0.0.1:$((base + i))/readyz" >/dev/null 2>&1 && ok=$((ok + 1))
		done
		[ $ok -eq "$n" ] && return 0
		sleep 0.2
	done
	echo "cluster not ready after ${limit}s" >&2
	return 1
}

case ${1:-} in
run)
	dir=${RAFTKV_DATA:-$ROOT/data}
	base=2020
	for b in raftkv raftkv-agent; do
		[ -x "$BINDIR/$b" ] || { echo "missing $BINDIR/$b: run make first" >&2; exit 1; }
	done
	trap 'echo; echo "stopping..."; stop "$dir"; exit 0' INT TERM
	start "$dir" 3 $base
	if wait_ready 3 $base 20; then
		cat <<EOT
raftkv: 3 nodes running, data under $dir (logs: $dir/n*.log)
  HTTP   http://127.0.0.1:2020  :2021  :2022     Raft 127.0.0.1:3030-3032
  agents http://127.0.0.1:2040  :2041  :2042
Try:
  curl -X PUT --data-binary hello http://127.0.0.1:2021/kv/greeting
  curl http://127.0.0.1:2022/kv/greeting
  curl http://127.0.0.1:2020/admin/status
  bin/raftkv-ctl status
  bin/raftkv-ctl partition 0,1/2 ; bin/raftkv-ctl heal
Ctrl-C stops the cluster.
EOT
	else
		echo "see $dir/n*.log" >&2
	fi
	while true; do sleep 1; done
	;;
start)
	start "$2" "${3:-3}" "${4:-2020}"
	wait_ready "${3:-3}" "${4:-2020}" "${RAFTKV_READY_TIMEOUT:-20}"
	;;
stop)
	stop "$2"
	;;
*)
	sed -n '2,12p' "$0" >&2
	exit 2
	;;
esac
