#!/bin/bash
# Reproduces the tables of jepsen/README.md on fresh local 5-node clusters:
#
#   jepsen/matrix.sh safe [TIME_S]        register, append x none, partition, kill,
#                                         pause, clock, all; bug switches off
#   jepsen/matrix.sh bugs [RUNS] [TIME_S] each bug switch with the nemesis that
#                                         exposes it, RUNS times (default 5)
#   jepsen/matrix.sh bugs-only RUNS TIME_S no_fsync|lease_reads ...
#   no_fsync runs the kill nemesis in amnesia mode (a majority crashed losing
#   unsynced writes and restarted while the minority is paused) with 1000 ops
#   per register key, so the keys in use at the crash are read again after it
#
# Needs what `make jepsen` needs (lein, or JEPSEN_CLASSPATH + JAVA_HOME). Rows
# go to jepsen/store/matrix-<kind>.edn (one EDN map per test) and the table is
# printed at the end. On a shared machine run it under
# flock /tmp/raftkv-cluster.lock.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-safe}
mkdir -p "$ROOT/jepsen/store"
out="$ROOT/jepsen/store/matrix-$kind.edn"
: >"$out"
local_run() { "$ROOT/jepsen/local.sh" "$@" --results-file "$out"; }
case $kind in
safe)
	t=${2:-30}
	local_run test-all --workloads register,append --nemeses none,partition,kill,pause,clock,all \
		--bugs none --time-limit "$t" --nemesis-interval 5
	;;
bugs)
	runs=${2:-5} t=${3:-30}
	common=(--test-count "$runs" --time-limit "$t" --nemesis-interval 5)
	for w in register append; do
		local_run test --workload "$w" --bug stale_reads --nemesis partition \
			--partition-targets one,majority "${common[@]}"
		local_run test --workload "$w" --bug ack_before_commit --nemesis partition \
			--partition-targets primaries "${common[@]}"
		local_run test --workload "$w" --bug no_fsync --nemesis kill --kill-modes amnesia \
			--ops-per-key 1000 "${common[@]}"
	done
	# lease_reads acts on GET /kv only (a /txn always goes through the log).
	# The isolation lasts 10 s, and a 1 s request timeout lets the old
	# leader's client get past its stuck writes to the reads that show it;
	# 60 s give two or three isolations per run instead of one.
	local_run test --workload register --bug lease_reads --nemesis leader-freeze \
		--test-count "$runs" --time-limit 60 --nemesis-interval 10 --request-timeout-ms 1000
	;;
bugs-only)
	# jepsen/matrix.sh bugs-only RUNS TIME_S BUG...: the same runs for some switches
	runs=${2:-5} t=${3:-30}
	shift 3
	common=(--test-count "$runs" --time-limit "$t" --nemesis-interval 5)
	for b in "$@"; do
		case $b in
		no_fsync)
			for w in register append; do
				local_run test --workload "$w" --bug no_fsync --nemesis kill --kill-modes amnesia \
					--ops-per-key 1000 "${common[@]}"
			done ;;
		lease_reads)
			local_run test --workload register --bug lease_reads --nemesis leader-freeze \
				--test-count "$runs" --time-limit 60 --nemesis-interval 10 --request-timeout-ms 1000 ;;
		*) echo "bugs-only: $b: use bugs for the others" >&2 ;;
		esac
	done
	;;
*)
	sed -n '2,12p' "$0" >&2
	exit 2
	;;
esac
echo
echo "results: $out"
clojure -cp "$ROOT/jepsen/src" -e "(require 'raftkv.report 'clojure.edn 'clojure.string)
  (println (raftkv.report/markdown
    (map clojure.edn/read-string
         (remove clojure.string/blank? (clojure.string/split-lines (slurp \"$out\"))))))"
