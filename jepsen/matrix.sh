#!/bin/bash
# Reproduces the tables of jepsen/README.md:
#
#   jepsen/matrix.sh safe [TIME_S]        register, append x none, partition, kill,
#                                         pause, clock, all; bug switches off
#   jepsen/matrix.sh bugs [RUNS] [TIME_S] each bug switch with the nemesis that
#                                         exposes it, RUNS times (default 5)
#   jepsen/matrix.sh bugs-only RUNS TIME_S BUG...   the same for some switches
#   jepsen/matrix.sh member [RUNS] [TIME_S]   register, append x the member
#                                         nemesis, RUNS times each (default 5,
#                                         60 s), a fresh cluster each time
#
# Every bug run gets a cluster of its own (a run under no_fsync leaves the
# nodes' logs and votes broken for whatever runs next). no_fsync runs the kill
# nemesis in amnesia mode (a majority crashed losing unsynced writes and
# restarted while the minority is paused) with 1000 ops per register key and
# 6 reads per write, so the keys in use at the crash are read again after it.
#
# JEPSEN_MATRIX_TARGET=local (default): fresh local 5-node clusters
#   (jepsen/local.sh); run under flock /tmp/raftkv-cluster.lock.
# JEPSEN_MATRIX_TARGET=docker: the compose cluster (jepsen/docker.sh, 3 nodes
#   or JEPSEN_DOCKER_NODES=5, image $RAFTKV_IMAGE), started fresh for each
#   command (replacing one that is up); run under
#   flock /tmp/raftkv-docker.lock.
# JEPSEN_MATRIX_LOCK=FILE: each run takes `flock FILE` itself instead (the
#   whole matrix under one flock keeps other users of the cluster out for an
#   hour; with this they get in between runs). Do not combine with an outer
#   flock on the same file: that deadlocks.
# JEPSEN_MATRIX_OUT=FILE: append the rows there instead of truncating
#   jepsen/store/matrix-<kind>[-docker].edn.
# JEPSEN_MATRIX_UNTIL=TIME (anything `date -d` reads, e.g. 21:40): start no
#   run after it (the runs left are counted at the end).
#
# Needs what `make jepsen` needs (lein, or JEPSEN_CLASSPATH + JAVA_HOME). Rows
# go to jepsen/store/matrix-<kind>[-docker].edn (one EDN map per test) and the
# table is printed at the end.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-safe}
target=${JEPSEN_MATRIX_TARGET:-local}
case $target in
local) runner="$ROOT/jepsen/local.sh" suffix="" ;;
docker)
	runner="$ROOT/jepsen/docker.sh" suffix="-docker"
	# a cluster of this matrix's own for every command, even if one is up
	export JEPSEN_DOCKER_FRESH=1 ;;
*) echo "matrix.sh: JEPSEN_MATRIX_TARGET is local or docker" >&2; exit 2 ;;
esac
mkdir -p "$ROOT/jepsen/store"
if [ -n "${JEPSEN_MATRIX_OUT:-}" ]; then
	out=$JEPSEN_MATRIX_OUT
	touch "$out"
else
	out="$ROOT/jepsen/store/matrix-$kind$suffix.edn"
	: >"$out"
fi
until_s=""
if [ -n "${JEPSEN_MATRIX_UNTIL:-}" ]; then
	until_s=$(date -d "$JEPSEN_MATRIX_UNTIL" +%s) || exit 2
fi
skipped=0
one_run() {
	if [ -n "$until_s" ] && [ "$(date +%s)" -ge "$until_s" ]; then
		skipped=$((skipped + 1))
		return
	fi
	if [ -n "${JEPSEN_MATRIX_LOCK:-}" ]; then
		flock "$JEPSEN_MATRIX_LOCK" "$runner" "$@" --results-file "$out"
	else
		"$runner" "$@" --results-file "$out"
	fi
}
# runs N ARGS...: N tests, each on a fresh cluster
runs() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do one_run test "$@"; done
}
bug_rows() { # RUNS TIME_S BUG
	local n=$1 t=$2 b=$3 w
	local common=(--time-limit "$t" --nemesis-interval 5)
	case $b in
	stale_reads)
		for w in register append; do
			runs "$n" --workload "$w" --bug stale_reads --nemesis partition \
				--partition-targets one,majority "${common[@]}"
		done ;;
	ack_before_commit)
		for w in register append; do
			runs "$n" --workload "$w" --bug ack_before_commit --nemesis partition \
				--partition-targets primaries "${common[@]}"
		done ;;
	no_fsync)
		# register: 6 reads per write and per cas. A lost write is seen only
		# if a read reaches the key before the next write overwrites the loss,
		# and the key must survive the fault's burst of :info (on compose a
		# write to a crashed container is reset by docker-proxy: :info at
		# once), which moves a key on after 10 (--unknown-per-key; 20 made
		# Knossos run out of memory). With 1 read in 3 a compose run was valid.
		runs "$n" --workload register --bug no_fsync --nemesis kill --kill-modes amnesia \
			--ops-per-key 1000 --read-weight 6 "${common[@]}"
		runs "$n" --workload append --bug no_fsync --nemesis kill --kill-modes amnesia \
			"${common[@]}" ;;
	lease_reads)
		# GET /kv only (a /txn always goes through the log). The isolation
		# lasts 10 s, and a 1 s request timeout lets the old leader's client
		# get past its stuck writes to the reads that show it; 60 s give two
		# or three isolations per run instead of one.
		runs "$n" --workload register --bug lease_reads --nemesis leader-freeze \
			--time-limit 60 --nemesis-interval 10 --request-timeout-ms 1000 ;;
	*) echo "matrix.sh: unknown bug $b" >&2 ;;
	esac
}
case $kind in
safe)
	t=${2:-30}
	one_run test-all --workloads register,append --nemeses none,partition,kill,pause,clock,all \
		--bugs none --time-limit "$t" --nemesis-interval 5
	;;
bugs)
	n=${2:-5} t=${3:-30}
	for b in stale_reads ack_before_commit no_fsync lease_reads; do bug_rows "$n" "$t" "$b"; done
	;;
bugs-only)
	n=${2:-5} t=${3:-30}
	shift 3
	for b in "$@"; do bug_rows "$n" "$t" "$b"; done
	;;
member)
	n=${2:-5} t=${3:-60}
	for w in register append; do
		runs "$n" --workload "$w" --nemesis member --time-limit "$t" --nemesis-interval 5
	done
	;;
*)
	sed -n '2,36p' "$0" >&2
	exit 2
	;;
esac
echo
[ "$skipped" -gt 0 ] && echo "matrix.sh: $skipped run(s) not started: past $JEPSEN_MATRIX_UNTIL"
echo "results: $out"
clojure -cp "$ROOT/jepsen/src" -e "(require 'raftkv.report 'clojure.edn 'clojure.string)
  (println (raftkv.report/markdown
    (map clojure.edn/read-string
         (remove clojure.string/blank? (clojure.string/split-lines (slurp \"$out\"))))))"
