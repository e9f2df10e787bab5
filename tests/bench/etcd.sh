#!/bin/bash
# A 3-member etcd cluster on loopback for `make bench`, to compare raftkv with.
#
#   tests/bench/etcd.sh start DIR [BASE]   members i=0..2: client BASE+i, peer BASE+10+i
#   tests/bench/etcd.sh stop DIR
#
# BASE defaults to 2680, clear of raftkv's bench cluster (2620-2622, 2640-2642,
# 3630-3632), the default cluster (2020-...) and the bats bases (21000 and up).
# etcd 3.4 fsyncs its WAL on every commit and cannot be told not to, as raftkv
# does with fsync on. Logs go to DIR/e<i>.log.
set -euo pipefail

start() { # DIR BASE
	local dir=$1 base=$2 i cluster="" p
	command -v etcd >/dev/null || { echo "etcd not installed (Debian package etcd-server)" >&2; return 1; }
	for ((i = 0; i < 3; i++)); do
		for p in $((base + i)) $((base + 10 + i)); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
				echo "port $p in use (another etcd running?)" >&2
				return 1
			fi
		done
		cluster+="e$i=http://127.0.0.1:$((base + 10 + i))"
		[ $i -lt 2 ] && cluster+=","
	done
	mkdir -p "$dir"
	for ((i = 0; i < 3; i++)); do
		etcd --name "e$i" --data-dir "$dir/e$i" \
			--listen-client-urls "http://127.0.0.1:$((base + i))" \
			--advertise-client-urls "http://127.0.0.1:$((base + i))" \
			--listen-peer-urls "http://127.0.0.1:$((base + 10 + i))" \
			--initial-advertise-peer-urls "http://127.0.0.1:$((base + 10 + i))" \
			--initial-cluster "$cluster" --initial-cluster-state new \
			--initial-cluster-token raftkv-bench --log-level error \
			>>"$dir/e$i.log" 2>&1 &
		echo $! >"$dir/e$i.pid"
	done
	echo "$base" >"$dir/base"
	# ready when a linearizable range answers (needs a leader and a quorum)
	for ((i = 0; i < 300; i++)); do
		if curl -sf -m 2 -X POST "http://127.0.0.1:$base/v3/kv/range" -d '{"key":"AA=="}' >/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "etcd cluster did not become ready; logs in $dir" >&2
	return 1
}

stop() { # DIR
	local dir=$1 f pid
	for f in "$dir"/e*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$f"
	done
}

case ${1:-} in
start) start "$2" "${3:-2680}" ;;
stop) stop "$2" ;;
*) echo "usage: $0 start DIR [BASE] | stop DIR" >&2; exit 2 ;;
esac
