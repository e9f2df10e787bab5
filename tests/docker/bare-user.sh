#!/bin/bash
# What a new user does with the README, run INSIDE a bare debian:bookworm-slim
# container as root, from a clean copy of the checkout (tests/docker/50-readme.bats
# copies it in and calls this). bash is in every Debian (Essential), so this script
# needs nothing the user would not have; everything else comes from the README's steps.
#
#   bare-user.sh install 'LINE'...  runs each README install line with sh -c, as typed
#   bare-user.sh run                `make run` in the background until its banner; a write
#                                   through node 1, read back from node 2 with a
#                                   linearizable read, the two-operation history judged by
#                                   bin/raftkv-check; then Ctrl-C, and the nodes must stop
#   bare-user.sh test               `make test` until its first suite's closing line
#                                   ("<suite>: N passed, N failed"); then it is stopped
#   bare-user.sh redeps [PKG]       PKG (libcjson-dev) removed, the sources that use it
#                                   touched, then one `make` must install it and build
#
# Each prints "bare: <what> took Ns" and exits non-zero with the log's tail on failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
mode=${1:-}
shift || true
say() { echo "bare: $*"; }
fail() {
	say "FAIL: $*"
	exit 1
}
t0=$SECONDS

# start_bg LOG COMMAND... — runs COMMAND in the background in its own process group
# (job control on), as a terminal would, so Ctrl-C can be sent to the whole group.
start_bg() {
	local log=$1
	shift
	set -m
	"$@" >"$log" 2>&1 &
	bg_pid=$!
	set +m
}

# wait_for LOG PATTERN LIMIT_S — until an extended regex shows up in LOG, or the
# background command ends, or time is up. 0 found, 1 ended, 2 timed out.
wait_for() {
	local log=$1 re=$2 limit=$3 deadline=$((SECONDS + $3))
	while [ $SECONDS -lt "$deadline" ]; do
		grep -Eq "$re" "$log" && return 0
		kill -0 "$bg_pid" 2>/dev/null || { grep -Eq "$re" "$log" && return 0; return 1; }
		sleep 1
	done
	return 2
}

# stop_group SIG — signal the background group, wait up to 30 s for its leader.
stop_group() {
	kill "-$1" -- "-$bg_pid" 2>/dev/null
	local i
	for i in $(seq 300); do
		kill -0 "$bg_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$bg_pid" 2>/dev/null
}

# kill_session SID SIG — every process of session SID. `make test` runs each suite under
# timeout(1), which puts it in a process group of its own, so stopping make test after
# its first suite takes the whole session (it was started with setsid); otherwise the
# second suite would go on running beside the next test.
kill_session() {
	local sid=$1 sig=$2 f st pid fields
	for f in /proc/[0-9]*/stat; do
		st=$(cat "$f" 2>/dev/null) || continue
		pid=${st%% *}
		read -r -a fields <<<"${st##*) }" # state ppid pgrp session ...
		[ "${fields[3]:-}" = "$sid" ] && kill "-$sig" "$pid" 2>/dev/null
	done
	return 0
}

case $mode in
install)
	[ $# -gt 0 ] || fail "no install lines given"
	for line in "$@"; do
		say "\$ $line"
		sh -c "$line" || fail "'$line' exited $? (after $((SECONDS - t0))s)"
	done
	say "install took $((SECONDS - t0))s"
	;;

run)
	log=/tmp/make-run.log
	start_bg "$log" make run
	if ! wait_for "$log" '^raftkv: 3 nodes running' "${BARE_RUN_LIMIT:-900}"; then
		tail -n 40 "$log"
		stop_group TERM
		fail "make run printed no '3 nodes running' banner (after $((SECONDS - t0))s)"
	fi
	say "make run: build and 3 nodes ready took $((SECONDS - t0))s"
	# Quiet build: one short line per step, never the full compiler command.
	grep -Eq '^  CC +node/raft/raft\.c$' "$log" || { tail -n 40 "$log"; fail "no quiet '  CC node/raft/raft.c' line in make run's output"; }
	if grep -Eq '^(cc|gcc|ar) ' "$log"; then
		grep -E '^(cc|gcc|ar) ' "$log" | head -n 3
		fail "make run printed full build commands (only V=1 should)"
	fi

	# A write through node 1, then a linearizable read (ReadIndex, contract section 2)
	# through node 2. The read starts after the write was acknowledged, so the checker
	# accepts the history only if the read returns the written value.
	t1=$SECONDS
	key=bare-$$-$RANDOM
	value=v-$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')
	hist=/tmp/bare-history.jsonl
	w0=$(date +%s%N)
	wcode=$(curl -s -m 10 -o /tmp/put.json -w '%{http_code}' -X PUT --data-binary "$value" "http://127.0.0.1:2021/kv/$key")
	w1=$(date +%s%N)
	r0=$(date +%s%N)
	rcode=$(curl -s -m 10 -o /tmp/get.json -w '%{http_code}' "http://127.0.0.1:2022/kv/$key?consistency=linearizable")
	r1=$(date +%s%N)
	[ "$wcode" = 200 ] || fail "PUT through node 1 answered $wcode: $(cat /tmp/put.json 2>/dev/null)"
	case $rcode in 200 | 404) ;; *) fail "linearizable GET through node 2 answered $rcode: $(cat /tmp/get.json 2>/dev/null)" ;; esac
	read_value=$(jq -c .value /tmp/get.json) || fail "GET's body is not JSON: $(cat /tmp/get.json)"
	{
		jq -cn --arg k "$key" --arg v "$value" --argjson t "$w0" '{process:0,type:"invoke",f:"write",key:$k,value:$v,time:$t,node:1}'
		jq -cn --arg k "$key" --arg v "$value" --argjson t "$w1" '{process:0,type:"ok",f:"write",key:$k,value:$v,time:$t,node:1}'
		jq -cn --arg k "$key" --argjson t "$r0" '{process:1,type:"invoke",f:"read",key:$k,value:null,time:$t,node:2}'
		jq -cn --arg k "$key" --argjson v "$read_value" --argjson t "$r1" '{process:1,type:"ok",f:"read",key:$k,value:$v,time:$t,node:2}'
	} >"$hist" || fail "could not write the history"
	if ! bin/raftkv-check "$hist"; then
		cat "$hist"
		fail "the checker rejects the history: node 2 read $read_value after the write of \"$value\" through node 1"
	fi
	say "write through node 1 read back linearizably from node 2 (checked by raftkv-check) in $((SECONDS - t1))s"

	# Ctrl-C, as the banner says, stops the cluster.
	# (make dies at once; tests/cluster.sh's trap then stops the agents, in up to 5 s.)
	stop_group INT
	deadline=$((SECONDS + 15))
	for p in 2020 2021 2022 2040 2041 2042; do
		while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
			[ $SECONDS -lt $deadline ] || fail "port $p still answers 15 s after Ctrl-C on make run"
			sleep 0.2
		done
	done
	grep -q '^stopping' "$log" || { tail -n 20 "$log"; fail "make run did not say it was stopping after Ctrl-C"; }
	say "make run phase took $((SECONDS - t0))s"
	;;

test)
	log=/tmp/make-test.log
	# Not a process-group leader here (no job control), so setsid needs no fork: the
	# background pid is make's and its session's id.
	setsid make test >"$log" 2>&1 &
	bg_pid=$!
	re='^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed'
	wait_for "$log" "$re" "${BARE_TEST_LIMIT:-1200}"
	rc=$?
	line=$(grep -E "$re" "$log" | head -n 1)
	suite=$(grep -E '^==== .* ====$' "$log" | head -n 1)
	kill_session "$bg_pid" TERM
	for _ in $(seq 100); do
		kill -0 "$bg_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill_session "$bg_pid" KILL
	wait "$bg_pid" 2>/dev/null
	if [ $rc -ne 0 ]; then
		tail -n 40 "$log"
		fail "make test printed no suite's closing line ($([ $rc = 1 ] && echo "it ended" || echo "timed out") after $((SECONDS - t0))s)"
	fi
	say "make test, first suite $suite: $line"
	case $line in
	*": 0 passed, "*) tail -n 40 "$log"; fail "the first suite ran no test" ;;
	*" 0 failed") ;;
	*) tail -n 60 "$log"; fail "the first suite failed: $line" ;;
	esac
	say "make test up to its first suite took $((SECONDS - t0))s"
	;;

redeps)
	# A package missing when make starts (as after the project adds one to
	# .ci/install-deps): make's own deps step installs it, and that same first make must
	# build. The old Makefile asked pkg-config while reading itself, before deps had run,
	# and failed here ("cJSON.h: No such file" or undefined references).
	# The sources that include cJSON.h are touched (a full `make clean` would only add
	# build time): they must compile with pkg-config's -I and the programs that use
	# them relink with its -l flags.
	pkg=${1:-libcjson-dev}
	[ -x bin/raftkv ] || fail "no earlier build to touch (the make run test did not build)"
	apt-get remove -y -qq "$pkg" >/dev/null 2>&1 || fail "could not remove $pkg to set the scene"
	grep -rl --include='*.c' --include='*.h' 'cJSON\.h' node faults | xargs touch ||
		fail "found no source that includes cJSON.h"
	log=/tmp/make-redeps.log
	if ! make >"$log" 2>&1; then
		tail -n 30 "$log"
		fail "the first make after $pkg went missing failed"
	fi
	grep -q "installing.*$pkg" "$log" || { cat "$log" | head -n 20; fail "make did not install $pkg through its deps step"; }
	[ -x bin/raftkv ] || fail "no bin/raftkv after make"
	grep -Eq '^  LD +bin/raftkv$' "$log" || { tail -n 20 "$log"; fail "make did not relink bin/raftkv"; }
	say "make with $pkg missing: installed it and rebuilt on the first run in $((SECONDS - t0))s"
	;;

*)
	echo "usage: bare-user.sh install LINE... | run | test | redeps [PKG]" >&2
	exit 2
	;;
esac
