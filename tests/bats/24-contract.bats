#!/usr/bin/env bats
# The external contract (../shared/contract.md sections 1-4), shape by shape:
# what the other files do not already pin down. The cluster runs with small
# limits so that the limit flags themselves are exercised.

load helpers

setup_file() {
	export RAFTKV_NODE_FLAGS="--max-key-bytes 64 --max-value-bytes 4096"
	cluster_up 3
}
teardown_file() { cluster_down; }

# hdrs METHOD URL [BODY] → $headers (lower-cased names), $status_code, $body
hdrs() {
	local method=$1 url=$2 out
	if [ $# -ge 3 ]; then
		out=$(curl -s -m 8 -i -X "$method" --data-binary "$3" "$url" | tr -d '\r')
	else
		out=$(curl -s -m 8 -i -X "$method" "$url" | tr -d '\r')
	fi
	headers=$(printf '%s\n' "$out" | sed '/^$/q' | tr 'A-Z' 'a-z')
	body=$(printf '%s\n' "$out" | sed '1,/^$/d')
	status_code=$(printf '%s\n' "$out" | head -1 | cut -d' ' -f2)
}

# The three Raft headers are present and well-formed.
raft_headers_ok() {
	[[ "$headers" =~ x-raft-node:\ [0-9]+ ]] || { echo "no X-Raft-Node: $headers" >&2; return 1; }
	[[ "$headers" =~ x-raft-term:\ [0-9]+ ]] || { echo "no X-Raft-Term: $headers" >&2; return 1; }
	[[ "$headers" =~ x-raft-leader:\ ([0-9]+|none) ]] || { echo "no X-Raft-Leader: $headers" >&2; return 1; }
}

# {"error":"short words","detail":"one sentence"} and nothing about a value.
error_shape_ok() {
	echo "$body" | jq -e '(.error|type)=="string" and (.detail|type)=="string" and (.error|length)>0' >/dev/null ||
		{ echo "bad error body: $body" >&2; return 1; }
}

@test "flags: --help lists every flag with a default, -h, --version, Go-style booleans" {
	run "$BINDIR/raftkv" --help
	[ "$status" -eq 0 ]
	for f in node http cluster data-dir enable-faults admin-token max-key-bytes max-value-bytes \
		request-timeout-ms tick-ms election-ticks heartbeat-ticks no-prevote help version; do
		[[ "$output" == *"--$f"* ]] || { echo "--help misses --$f" >&2; return 1; }
	done
	[[ "$output" == *"(default 1024)"* ]]
	[[ "$output" == *"(default 1048576)"* ]]
	[[ "$output" == *"(default false)"* ]]
	run "$BINDIR/raftkv" -h
	[ "$status" -eq 0 ]
	[[ "$output" == *"--cluster"* ]]
	run "$BINDIR/raftkv" --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^raftkv\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	run "$BINDIR/raftkv" --enable-faults=false --version
	[ "$status" -eq 0 ]
	run "$BINDIR/raftkv" -enable-faults=maybe --version
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "flags: each start-up mistake is a non-zero exit with exactly one line" {
	local c="0,127.0.0.1:$((CLUSTER_BASE + 61)),127.0.0.1:$((CLUSTER_BASE + 60))"
	touch "$BATS_TEST_TMPDIR/afile"
	for args in \
		"--bogus" \
		"--node 7 --cluster $c --data-dir $BATS_TEST_TMPDIR/d1" \
		"--node 0 --cluster 0,:3030;0,:3031 --http :1 --data-dir $BATS_TEST_TMPDIR/d2" \
		"--node 0 --cluster 0,nohost --http :1 --data-dir $BATS_TEST_TMPDIR/d3" \
		"--node 0 --cluster $c --data-dir $BATS_TEST_TMPDIR/afile/sub" \
		"--node 0 --cluster $c --data-dir $BATS_TEST_TMPDIR/afile" \
		"--node 0 --cluster $c" \
		"--node 0 --cluster $c --data-dir $BATS_TEST_TMPDIR/d4 --tick-ms 0"; do
		# shellcheck disable=SC2086
		run "$BINDIR/raftkv" $args
		[ "$status" -ne 0 ] || { echo "exit 0 for: $args" >&2; return 1; }
		[ "${#lines[@]}" -eq 1 ] || { echo "not one line for: $args: $output" >&2; return 1; }
	done
	# the HTTP port of a running node is in use
	run "$BINDIR/raftkv" --node 0 --cluster "0,127.0.0.1:$((CLUSTER_BASE + 61)),127.0.0.1:$CLUSTER_BASE" \
		--data-dir "$BATS_TEST_TMPDIR/d5"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"in use"* ]]
}

@test "flags: the cluster's third field is the node's HTTP address when --http is absent" {
	local hp=$((CLUSTER_BASE + 70)) rp=$((CLUSTER_BASE + 71))
	"$BINDIR/raftkv" --node 0 --cluster "0,127.0.0.1:$rp,127.0.0.1:$hp" --data-dir "$BATS_TEST_TMPDIR/solo" \
		>"$BATS_TEST_TMPDIR/solo.log" 2>&1 &
	pid=$!
	wait_until 10 curl -fs "http://127.0.0.1:$hp/healthz"
	run curl -s "http://127.0.0.1:$hp/admin/status"
	kill "$pid"
	wait "$pid" || true
	[ "$(echo "$output" | jq -r '.members[0].http')" = "127.0.0.1:$hp" ]
}

@test "every response carries X-Raft-Node, X-Raft-Term and X-Raft-Leader, errors and admin included" {
	wait_leader 15 >/dev/null
	local n=$(node_url 1)
	for req in "GET $n/kv/hdr" "PUT $n/kv/hdr" "GET $n/nope" "PATCH $n/kv/hdr" "POST $n/txn" \
		"GET $n/admin/status" "GET $n/admin/faults" "GET $n/healthz" "GET $n/readyz" "GET $n/metrics" \
		"POST $n/admin/transfer" "GET $n/admin/nope" "POST $n/admin/faults/zzz" "GET $n/get"; do
		# shellcheck disable=SC2086
		hdrs $req
		raft_headers_ok || { echo "for $req" >&2; return 1; }
	done
	hdrs GET "$n/kv/hdr"
	[[ "$headers" == *"x-raft-node: 1"* ]]
}

@test "client errors are JSON {error, detail}; unknown paths have no value; wrong methods are 405" {
	local n=$(node_url 2)
	for req in "GET $n/nope" "GET $n/kv" "POST $n/admin-x"; do
		# shellcheck disable=SC2086
		hdrs $req
		[ "$status_code" = 404 ]
		error_shape_ok
		[ "$(echo "$body" | jq 'has("value")')" = false ]
	done
	for req in "POST $n/kv/k" "GET $n/kv/k/cas" "PUT $n/kv/k/append" "GET $n/txn" "DELETE $n/set" \
		"POST $n/get" "POST $n/healthz" "PUT $n/metrics" "POST $n/admin/status" "GET $n/admin/transfer"; do
		# shellcheck disable=SC2086
		hdrs $req
		[ "$status_code" = 405 ] || { echo "$req: $status_code" >&2; return 1; }
		error_shape_ok
	done
	hdrs GET "$n/kv/k?consistency=sometimes"
	[ "$status_code" = 400 ]
	error_shape_ok
}

@test "reads: every consistency level and /get answer 200 {key,value} or 404 {key,value:null}" {
	wait_leader 15 >/dev/null
	kv_put 0 rk "hello wörld"
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -c 'keys')" = '["index","key"]' ]
	for i in 0 1 2; do
		for c in "" linearizable log stale; do
			kv_get "$i" rk "$c"
			[ "$status_code" = 200 ]
			[ "$(echo "$body" | jq -c .)" = '{"key":"rk","value":"hello wörld"}' ]
			kv_get "$i" rk-absent "$c"
			[ "$status_code" = 404 ]
			[ "$(echo "$body" | jq -c .)" = '{"key":"rk-absent","value":null}' ]
		done
		for q in "" "&relaxed=true"; do
			http GET "$(node_url "$i")/get?key=rk$q"
			[ "$status_code" = 200 ]
			[ "$(echo "$body" | jq -r .value)" = "hello wörld" ]
			http GET "$(node_url "$i")/get?key=rk-absent$q"
			[ "$status_code" = 404 ]
			[ "$(echo "$body" | jq -c .value)" = null ]
		done
	done
}

@test "writes: cas mismatch is 409 with the current value; keys may contain a slash" {
	wait_leader 15 >/dev/null
	http POST "$(node_url 1)/kv/cm/cas" '{"from":"a","to":"b"}'
	[ "$status_code" = 409 ]
	[ "$(echo "$body" | jq -r .error)" = "cas mismatch" ]
	[ "$(echo "$body" | jq -c .value)" = null ]
	[ "$(echo "$body" | jq 'has("value")')" = true ]
	http POST "$(node_url 1)/kv/cm/cas" '{"from":null,"to":"b"}'
	[ "$status_code" = 200 ]
	http POST "$(node_url 2)/kv/cm/cas" '{"from":"zz","to":"c"}'
	[ "$status_code" = 409 ]
	[ "$(echo "$body" | jq -c .value)" = '"b"' ]
	http PUT "$(node_url 0)/kv/dir%2Fsub/leaf" v1
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -r .key)" = dir/sub/leaf ]
	http POST "$(node_url 1)/kv/dir/sub/leaf/append" "+2"
	[ "$status_code" = 200 ]
	http GET "$(node_url 2)/get?key=dir%2Fsub%2Fleaf"
	[ "$(echo "$body" | jq -r .value)" = "v1+2" ]
	http DELETE "$(node_url 2)/kv/dir/sub/leaf"
	[ "$status_code" = 200 ]
	kv_get 0 dir/sub/leaf
	[ "$status_code" = 404 ]
}

@test "txn answers the same list with reads filled in, applied atomically; bad ops change nothing" {
	wait_leader 15 >/dev/null
	req='[["r","tx",null],["append","tx","3 "],["w","ty","1"],["r","tx",null],["r","tz",null]]'
	http POST "$(node_url 2)/txn" "{\"ops\":$req}"
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq -c .ops)" = '[["r","tx",null],["append","tx","3 "],["w","ty","1"],["r","tx","3 "],["r","tz",null]]' ]
	# one bad op refuses the whole transaction
	http POST "$(node_url 2)/txn" '{"ops":[["w","tq","1"],["w","tq",7]]}'
	[ "$status_code" = 400 ]
	error_shape_ok
	kv_get 0 tq
	[ "$status_code" = 404 ]
	# a JSON string with U+0000 would be cut short by the parser: refused, never truncated
	http POST "$(node_url 1)/txn" '{"ops":[["w","tnul","p\u0000q"]]}'
	[ "$status_code" = 400 ]
	http POST "$(node_url 1)/kv/tnul/cas" '{"from":null,"to":"p\u0000q"}'
	[ "$status_code" = 400 ]
	kv_get 0 tnul
	[ "$status_code" = 404 ]
	for bad in '{"ops":[["r","x"]]}' '{"ops":"no"}' '[]' '{"ops":[["r","",null]]}' '{"ops":[["w","x",null]]}'; do
		http POST "$(node_url 0)/txn" "$bad"
		[ "$status_code" = 400 ] || { echo "$bad: $status_code" >&2; return 1; }
		error_shape_ok
	done
}

@test "limits follow their flags: key over --max-key-bytes and values or bodies over --max-value-bytes are 413" {
	[ "$RAFTKV_BACKEND" = local ] || skip "limits are set through local node flags"
	wait_leader 15 >/dev/null
	k64=$(head -c 64 /dev/zero | tr '\0' k)
	http PUT "$(node_url 0)/kv/$k64" ok
	[ "$status_code" = 200 ]
	http PUT "$(node_url 0)/kv/${k64}x" no
	[ "$status_code" = 413 ]
	error_shape_ok
	http GET "$(node_url 1)/kv/${k64}x"
	[ "$status_code" = 413 ]
	v4096=$(head -c 4096 /dev/zero | tr '\0' v)
	http PUT "$(node_url 0)/kv/big" "$v4096"
	[ "$status_code" = 200 ]
	for req in "PUT /kv/big2" "POST /kv/big2/append"; do
		# shellcheck disable=SC2086
		set -- $req
		http "$1" "$(node_url 1)$2" "${v4096}x"
		[ "$status_code" = 413 ] || { echo "$req: $status_code" >&2; return 1; }
		error_shape_ok
	done
	http POST "$(node_url 1)/kv/big2/cas" "{\"from\":null,\"to\":\"$v4096\"}"
	[ "$status_code" = 413 ]
	http POST "$(node_url 1)/txn" "{\"ops\":[[\"w\",\"big2\",\"$v4096\"]]}"
	[ "$status_code" = 413 ]
	http GET "$(node_url 2)/set?key=big2&value=${v4096}x"
	[ "$status_code" = 413 ]
	kv_get 2 big2
	[ "$status_code" = 404 ]
}

@test "invalid UTF-8 in a value or key is 400 through every write path" {
	wait_leader 15 >/dev/null
	code=$(printf 'ok\xc3' | curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @- "$(node_url 1)/kv/u8/append")
	[ "$code" = 400 ]
	http GET "$(node_url 1)/set?key=u8&value=%C3%28"
	[ "$status_code" = 400 ]
	error_shape_ok
	http GET "$(node_url 1)/set?key=%FF&value=x"
	[ "$status_code" = 400 ]
	http PUT "$(node_url 1)/kv/%C0%AF" x
	[ "$status_code" = 400 ]
	kv_get 0 u8
	[ "$status_code" = 404 ]
}

@test "/admin/status has every field with the contract's types" {
	l=$(wait_leader 15)
	for i in 0 1 2; do
		st=$(status_of "$i")
		echo "$st" | jq -e '
			(.id|type)=="number" and (.role|type)=="string" and (.term|type)=="number" and
			((.leader|type)=="number" or .leader==null) and
			(.commit_index|type)=="number" and (.applied_index|type)=="number" and
			(.last_log_index|type)=="number" and (.snapshot_index|type)=="number" and
			(.faults|type)=="object" and (.bugs|type)=="object" and
			(.members|length)==3 and
			all(.members[]; (.id|type)=="number" and (.raft|type)=="string" and
			    ((.http|type)=="string" or .http==null) and (.voter|type)=="boolean" and
			    ((.match_index|type)=="number" or .match_index==null))' >/dev/null ||
			{ echo "node $i: $st" >&2; return 1; }
		[ "$(echo "$st" | jq .id)" = "$i" ]
		[ "$(echo "$st" | jq .leader)" = "$l" ]
		echo "$st" | jq -e '.bugs == {"stale_reads":false,"lease_reads":false,"no_fsync":false,"ack_before_commit":false}' >/dev/null
	done
	# match_index is known on the leader for every member
	status_of "$l" | jq -e 'all(.members[]; (.match_index|type)=="number")' >/dev/null
	[ "$(status_of "$l" | jq -r .role)" = leader ]
}

@test "a node cut off alone: leader null, /readyz 503, reads and writes 503 with error bodies; heals by ms" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	others=$(for i in 0 1 2; do [ "$i" != "$f" ] && printf '%s,' "$i"; done)
	http POST "$(node_url "$f")/admin/faults/partition" "{\"groups\":[[${others%,}],[$f]],\"ms\":4000}"
	[ "$status_code" = 200 ]
	no_leader() { [ "$(status_of "$f" | jq -c .leader)" = null ]; }
	wait_until 10 no_leader
	hdrs GET "$(node_url "$f")/readyz"
	[ "$status_code" = 503 ]
	error_shape_ok
	[[ "$headers" == *"x-raft-leader: none"* ]]
	hdrs GET "$(node_url "$f")/kv/iso"
	[ "$status_code" = 503 ]
	error_shape_ok
	hdrs PUT "$(node_url "$f")/kv/iso" v
	[ "$status_code" = 503 ] || [ "$status_code" = 504 ]
	error_shape_ok
	hdrs GET "$(node_url "$f")/kv/iso?consistency=stale"
	[ "$status_code" = 404 ]
	# the partition heals itself after its ms
	wait_until 15 curl -fs "$(node_url "$f")/readyz"
	[ "$(status_of "$f" | jq -c .faults)" = '{}' ]
}

@test "/healthz, /readyz and /metrics: shapes, and the metrics are valid Prometheus text" {
	wait_leader 15 >/dev/null
	http GET "$(node_url 0)/healthz"
	[ "$status_code" = 200 ]
	wait_until 15 curl -fs "$(node_url 0)/readyz"
	hdrs GET "$(node_url 0)/metrics"
	[ "$status_code" = 200 ]
	[[ "$headers" == *"content-type: text/plain"* ]]
	echo "$body" >"$BATS_TEST_TMPDIR/metrics"
	# every sample's family has HELP and TYPE; histograms have le buckets up to +Inf, _sum and _count
	awk '
		/^# HELP / { help[$3] = 1; next }
		/^# TYPE / { type[$3] = $4; next }
		/^#/ || /^$/ { next }
		{
			name = $1; sub(/\{.*/, "", name)
			fam = name
			if (!(fam in type)) { sub(/_(bucket|sum|count)$/, "", fam) }
			if (!(fam in type) || !(fam in help)) { print "no HELP/TYPE for " name; bad = 1 }
			if ($2 !~ /^[-+]?([0-9.]+([eE][-+]?[0-9]+)?|NaN|\+Inf|-Inf)$/) { print "bad value: " $0; bad = 1 }
			if (type[fam] == "histogram" && name ~ /_bucket$/ && $1 !~ /le="/) { print "bucket without le: " $0; bad = 1 }
			if (type[fam] == "histogram" && $1 ~ /le="\+Inf"/) inf[fam] = 1
			if (type[fam] == "histogram" && name ~ /_sum$/) sum[fam] = 1
			if (type[fam] == "histogram" && name ~ /_count$/) cnt[fam] = 1
		}
		END {
			for (f in type) if (type[f] == "histogram" && !(inf[f] && sum[f] && cnt[f])) { print "incomplete histogram " f; bad = 1 }
			exit bad
		}' "$BATS_TEST_TMPDIR/metrics"
	grep -q '^raftkv_request_seconds_bucket{le="+Inf"} ' "$BATS_TEST_TMPDIR/metrics"
	grep -q '^raftkv_term ' "$BATS_TEST_TMPDIR/metrics"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$BATS_TEST_TMPDIR/metrics"
	fi
}

@test "faults: GET /admin/faults, ms self-heal, DELETE one and all, DELETE /admin/bugs" {
	wait_leader 15 >/dev/null
	n=$(node_url 2)
	http GET "$n/admin/faults"
	[ "$(echo "$body" | jq -c .)" = '{"faults":{}}' ]
	http POST "$n/admin/faults/net" '{"delay_ms":1,"ms":400}'
	[ "$status_code" = 200 ]
	[ "$(echo "$body" | jq '.faults.net.remaining_ms <= 400')" = true ]
	http POST "$n/admin/faults/disk" '{"delay_ms":1}'
	[ "$(echo "$body" | jq -c .faults.disk.remaining_ms)" = null ]
	http POST "$n/admin/faults/clock" '{"rate":1.5}'
	[ "$status_code" = 200 ]
	# the net fault heals itself within its ms; the others stay
	only_clock_and_disk() { [ "$(status_of 2 | jq -c '.faults|keys')" = '["clock","disk"]' ]; }
	wait_until 3 only_clock_and_disk
	http DELETE "$n/admin/faults/disk"
	[ "$status_code" = 200 ]
	[ "$(status_of 2 | jq -c '.faults|keys')" = '["clock"]' ]
	http DELETE "$n/admin/faults"
	[ "$(echo "$body" | jq -c .)" = '{"faults":{}}' ]
	http POST "$n/admin/bugs" '{"stale_reads":true,"no_fsync":true}'
	[ "$(echo "$body" | jq -c '[.bugs.stale_reads,.bugs.no_fsync,.bugs.lease_reads]')" = '[true,true,false]' ]
	[ "$(status_of 2 | jq .bugs.stale_reads)" = true ]
	# faults and bugs are separate: DELETE /admin/faults leaves bugs on
	http DELETE "$n/admin/faults"
	[ "$(status_of 2 | jq .bugs.no_fsync)" = true ]
	http DELETE "$n/admin/bugs"
	[ "$(echo "$body" | jq '[.bugs[]] | any')" = false ]
	for bad in "net {}" "net {\"drop_probability\":1.5}" "partition {\"groups\":\"x\"}" \
		"clock {\"rate\":-1}" "disk {\"fsync\":\"no\"}" "pause {\"ms\":-5}" "crash {\"lose_unsynced\":1}"; do
		http POST "$n/admin/faults/${bad%% *}" "${bad#* }"
		[ "$status_code" = 400 ] || { echo "$bad: $status_code $body" >&2; return 1; }
		error_shape_ok
	done
	http POST "$n/admin/bugs" '{"nonsense":true}'
	[ "$status_code" = 400 ]
	[ "$(status_of 2 | jq -c .faults)" = '{}' ]
}

@test "transfer: the leader hands over; bad bodies 400, unknown target 400, a follower 503" {
	l=$(wait_leader 15)
	f=$(other_node "$l")
	http POST "$(node_url "$l")/admin/transfer" '{"to":"x"}'
	[ "$status_code" = 400 ]
	error_shape_ok
	http POST "$(node_url "$l")/admin/transfer" '{"to":1.5}'
	[ "$status_code" = 400 ]
	http POST "$(node_url "$l")/admin/transfer" '{"to":42}'
	[ "$status_code" = 400 ]
	http POST "$(node_url "$f")/admin/transfer" "{\"to\":$f}"
	[ "$status_code" = 503 ]
	error_shape_ok
	http POST "$(node_url "$l")/admin/transfer" "{\"to\":$l}"
	[ "$status_code" = 200 ]
	http POST "$(node_url "$l")/admin/transfer" "{\"to\":$f}"
	[ "$status_code" = 200 ]
	nl=$(wait_leader 15 "$l")
	[ "$nl" = "$f" ]
	kv_put "$l" after-transfer ok
	[ "$status_code" = 200 ]
}

@test "agent: status field types, logs as text, unknown path 404, wrong method 405" {
	[ "$RAFTKV_BACKEND" = local ] || skip "agent paths are checked on the local backend"
	a=$(agent_url 1)
	run curl -s "$a/agent/status"
	echo "$output" | jq -e '((.pid|type)=="number") and .state=="running" and
		((.exit_status|type)=="number" or .exit_status==null) and (.restarts|type)=="number"' >/dev/null
	run curl -s -o /dev/null -w '%{http_code} %{content_type}' "$a/agent/logs"
	[[ "$output" == "200 text/plain"* ]]
	http GET "$a/agent/nope"
	[ "$status_code" = 404 ]
	error_shape_ok
	http GET "$a/agent/kill"
	[ "$status_code" = 405 ]
	error_shape_ok
	http POST "$a/agent/corrupt" '{"target":"wal"}'
	[ "$status_code" = 409 ]
	error_shape_ok
}
