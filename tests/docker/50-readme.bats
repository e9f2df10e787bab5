#!/usr/bin/env bats
# The README, followed as a new user would (issue 14), so that a missing install
# step fails here rather than for a user:
#
#  1-2. In a bare container of the project's base image (debian:bookworm-slim, which
#       docker/build.sh makes by debootstrap when no registry answers): nothing but
#       Debian minbase, no make, no compiler. A clean copy of the checkout (git archive,
#       no build outputs), then the README's install line(s), `make run` (a write through
#       node 1 read back linearizably from node 2, judged by the checker; Ctrl-C), and
#       `make test` until its first suite has passed. The container starts from the
#       bare base image on every run: the apt install is what is tested, so it is not
#       cached in a derived image.
#    3. In the same container, a package removed: the first `make` installs it through
#       its deps step and builds (pkg-config is asked only after deps has run).
#    4. The Docker path from a clean copy on the host: `make docker-up`, the cluster
#       answers (same write/read check), `make docker-down` removes it.
#
# Network: the bare container is on Docker's default bridge, as a user's would be; its
# apt reaches the Debian mirror in the base image's sources.list through Docker's NAT
# (checked on this machine: apt-get update in a bridge container works). Where a
# bridge has no route out, RAFTKV_BARE_NETWORK=host runs it on the host's network
# instead; the container's `make run` then binds 127.0.0.1:2020-2042 of the host, so
# nothing else may hold those ports.
#
# Timing lines ("bare: ... took Ns") go into the TAP output.

load ../bats/helpers
load readme

BARE_BASE=${RAFTKV_BASE_IMAGE:-debian:bookworm-slim}

setup_file() {
	[ "$RAFTKV_BACKEND" = docker ] || skip "Docker backend only (RAFTKV_BACKEND=docker)"
	export BARE_DIR=$BATS_FILE_TMPDIR/readme
	export BARE_CTR=raftkv-bare-$$
	mkdir -p "$BARE_DIR"
	clean_copy_tar "$ROOT" "$BARE_DIR/checkout.tar" || skip "not a git checkout: no clean copy to test"
	# tests/docker/run.sh has built the image, so the base image is present; a run of
	# this file alone makes it the same way.
	docker image inspect "$BARE_BASE" >/dev/null 2>&1 || "$ROOT/docker/build.sh" >&2
	# A container left by an interrupted run would only hold memory and names.
	docker ps -aq --filter label=raftkv-bare | xargs -r docker rm -f >/dev/null 2>&1
	docker run -d --name "$BARE_CTR" --label raftkv-bare=1 \
		--network "${RAFTKV_BARE_NETWORK:-bridge}" --workdir /root/raftkv \
		"$BARE_BASE" sleep infinity >/dev/null
	docker exec "$BARE_CTR" mkdir -p /root/raftkv
	docker cp - "$BARE_CTR:/root/raftkv" <"$BARE_DIR/checkout.tar"
}

teardown_file() {
	[ -n "${BARE_CTR:-}" ] && docker rm -f "$BARE_CTR" >/dev/null 2>&1
	# the Docker path's cluster, if test 3 stopped halfway
	RAFTKV_COMPOSE_EXTRA='' compose "$(raftkv_deployed_size)" down -v --remove-orphans -t 5 >/dev/null 2>&1
	return 0
}

# The README's first block: the install line(s), then `make run` and `make test`.
two_commands() {
	readme_block "$ROOT/README.md" '## The two commands'
}

bare() { # MODE [ARGS] — tests/docker/bare-user.sh inside the container (clean copy)
	docker exec -e BARE_RUN_LIMIT=900 -e BARE_TEST_LIMIT=1200 "$BARE_CTR" \
		bash /root/raftkv/tests/docker/bare-user.sh "$@"
}

@test "README on a bare Debian 12: the install step, then make run; a write through node 1 reads back linearizably from node 2" {
	mapfile -t cmds < <(two_commands)
	printf '# README: %s\n' "${cmds[@]}" >&3
	install=()
	for c in "${cmds[@]}"; do
		[ "$c" = "make run" ] && break
		install+=("$c")
	done
	[ ${#install[@]} -ge 1 ]                      # a first step: a bare Debian has no make
	[ ${#install[@]} -lt ${#cmds[@]} ]            # and `make run` after it
	printf '%s\n' "${cmds[@]}" | grep -qx 'make test'
	start=$SECONDS
	# make must not be there before the README's step (else this proves nothing)
	run docker exec "$BARE_CTR" sh -c 'command -v make || command -v cc || exit 3'
	[ "$status" -eq 3 ]
	run bare install "${install[@]}"
	show_bare "$output"
	[ "$status" -eq 0 ] || { tail -n 40 <<<"$output"; false; }
	run bare run
	show_bare "$output"
	[ "$status" -eq 0 ] || { tail -n 40 <<<"$output"; false; }
	echo "# bare: README install + make run + linearizable read took $((SECONDS - start))s" >&3
}

@test "README on a bare Debian 12: make test passes its first suite" {
	run docker exec "$BARE_CTR" sh -c 'command -v make'
	[ "$status" -eq 0 ] || skip "the install step of the previous test did not run"
	run bare test
	show_bare "$output"
	[ "$status" -eq 0 ] || { tail -n 40 <<<"$output"; false; }
}

@test "bare Debian 12: a package missing when make starts is installed by make's deps step, and that first make builds" {
	run docker exec "$BARE_CTR" sh -c 'command -v make'
	[ "$status" -eq 0 ] || skip "the install step of the first test did not run"
	run bare redeps libcjson-dev
	show_bare "$output"
	[ "$status" -eq 0 ] || { tail -n 40 <<<"$output"; false; }
}

@test "README's Docker path from a clean copy: make docker-up answers, make docker-down removes the cluster" {
	mapfile -t cmds < <(readme_block "$ROOT/README.md" '### With Docker')
	printf '# README: %s\n' "${cmds[@]}" >&3
	printf '%s\n' "${cmds[@]}" | grep -qx 'make docker-up'
	printf '%s\n' "${cmds[@]}" | grep -qx 'make docker-down'
	copy=$BARE_DIR/copy
	mkdir -p "$copy"
	tar -C "$copy" -xf "$BARE_DIR/checkout.tar"
	cd "$copy"
	# Nothing of the suite's own settings: the user's environment.
	unset RAFTKV_COMPOSE_EXTRA RAFTKV_ADMIN_TOKEN RAFTKV_NODE_FLAGS RAFTKV_AGENT_FLAGS RAFTKV_BACKEND
	start=$SECONDS
	up_done=0
	for c in "${cmds[@]}"; do
		t=$SECONDS
		run sh -c "$c"
		echo "# bare: \$ $c: exit $status in $((SECONDS - t))s" >&3
		grep -E '^(docker/build.sh: built|raftkv: [0-9]+ nodes ready)' <<<"$output" | sed 's/^/#   /' >&3
		[ "$status" -eq 0 ] || { echo "$output"; false; }
		if [ "$c" = "make docker-up" ]; then
			up_done=1
			# A write through n2, a linearizable read through n3, judged by the checker.
			key=bare-docker-$$ value=v-$RANDOM$RANDOM hist=$BARE_DIR/docker-history.jsonl
			w0=$(date +%s%N)
			wcode=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X PUT --data-binary "$value" "http://127.0.0.1:12022/kv/$key")
			w1=$(date +%s%N)
			r0=$(date +%s%N)
			rbody=$(curl -s -m 10 "http://127.0.0.1:12023/kv/$key?consistency=linearizable")
			r1=$(date +%s%N)
			[ "$wcode" = 200 ]
			rv=$(jq -c .value <<<"$rbody")
			{
				jq -cn --arg k "$key" --arg v "$value" --argjson t "$w0" '{process:0,type:"invoke",f:"write",key:$k,value:$v,time:$t}'
				jq -cn --arg k "$key" --arg v "$value" --argjson t "$w1" '{process:0,type:"ok",f:"write",key:$k,value:$v,time:$t}'
				jq -cn --arg k "$key" --argjson t "$r0" '{process:1,type:"invoke",f:"read",key:$k,value:null,time:$t}'
				jq -cn --arg k "$key" --argjson v "$rv" --argjson t "$r1" '{process:1,type:"ok",f:"read",key:$k,value:$v,time:$t}'
			} >"$hist"
			run "$BINDIR/raftkv-check" "$hist"
			[ "$status" -eq 0 ] || { cat "$hist"; echo "$output"; false; }
		fi
	done
	[ "$up_done" = 1 ]
	# docker-down removed the cluster: no containers, no network, ports closed.
	for k in 1 2 3; do
		run docker inspect "n$k"
		[ "$status" -ne 0 ]
	done
	run docker network inspect "$RAFTKV_NETWORK"
	[ "$status" -ne 0 ]
	run curl -s -m 2 -o /dev/null http://127.0.0.1:12021/readyz
	[ "$status" -ne 0 ]
	echo "# bare: README Docker path (clean copy) took $((SECONDS - start))s" >&3
}
