#!/usr/bin/env bats
# Histories under faults, judged by the checker. The second test proves the
# first can fail: with a bug switch on, the same kind of run must be caught.

load helpers

setup_file() { cluster_up 3; }
teardown_file() { cluster_down; }
teardown() { heal_all; }

nodes() { local i s=""; for ((i = 0; i < CLUSTER_N; i++)); do s+="${s:+,}$(node_url "$i")"; done; echo "$s"; }
agents() { local i s=""; for ((i = 0; i < CLUSTER_N; i++)); do s+="${s:+,}$(agent_url "$i")"; done; echo "$s"; }

# run_checked NAME NEMESIS: a checked workload run; asserts a linearizable
# verdict, real work done, and that the nemesis really fired.
run_checked() {
	local name=$1 nemesis=$2
	run "$BINDIR/raftkv-workload" --nodes "$(nodes)" --agents "$(agents)" ${TOKEN:+--admin-token "$TOKEN"} \
		--key-prefix "$name-" --clients 8 --keys 4 --duration 15 \
		--nemesis "$nemesis" --nemesis-interval 2 --timeout-ms 1500 --check --quiet \
		--history "$BATS_FILE_TMPDIR/$name.jsonl" --nemesis-log "$BATS_FILE_TMPDIR/$name.nemesis" \
		--summary "$BATS_FILE_TMPDIR/$name.json"
	echo "$output" | tail -n 20
	[ "$status" -eq 0 ]
	[ "$(grep -c '"ok"' "$BATS_FILE_TMPDIR/$name.jsonl")" -gt 100 ]
	[ -s "$BATS_FILE_TMPDIR/$name.nemesis" ]
	# the history file itself passes the command-line checker too
	run "$BINDIR/raftkv-check" "$BATS_FILE_TMPDIR/$name.jsonl"
	[ "$status" -eq 0 ]
}

@test "a workload under a partition nemesis is linearizable" {
	run_checked part partition
}

@test "a workload under a kill-and-restart nemesis is linearizable" {
	run_checked kill kill
}

@test "the same run with stale_reads on is caught as not linearizable" {
	for i in 0 1 2; do admin_post "$i" /admin/bugs '{"stale_reads":true}' >/dev/null; done
	run "$BINDIR/raftkv-workload" --nodes "$(nodes)" --agents "$(agents)" ${TOKEN:+--admin-token "$TOKEN"} \
		--key-prefix "t${BATS_TEST_NUMBER}-" --clients 8 --keys 2 --duration 20 \
		--mix read=60,write=40 --nemesis partition --nemesis-interval 2 --timeout-ms 1500 --check --quiet \
		--history "$BATS_FILE_TMPDIR/bad.jsonl"
	echo "$output" | tail -n 20
	[ "$status" -eq 1 ]
	run "$BINDIR/raftkv-check" "$BATS_FILE_TMPDIR/bad.jsonl"
	[ "$status" -eq 1 ]
}
