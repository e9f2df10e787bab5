#!/bin/bash
# make jepsen-docker ARGS="test --workload append --nemesis kill --time-limit 60"
# Runs the Jepsen test against the compose cluster (docker/up.sh; 3 nodes, or
# JEPSEN_DOCKER_NODES=5 with docker-compose.5.yml) from this host, through the
# published 127.0.0.1 ports, with the compose admin token.
# JEPSEN_DOCKER_SPARES=1 (the default when the arguments name the member
# nemesis): the 3-node cluster plus its spares n4 and n5 (compose profile
# `spares`, docker/docker-compose.spares.yml), which join with --join; the
# test then runs on all five (--targets compose:5), and only n4 and n5 can be
# replaced (wiped, they join again by themselves).
# A cluster that already answers is used as it is (and left running), unless
# JEPSEN_DOCKER_FRESH=1: then it is replaced by a fresh one (docker/up.sh,
# image $RAFTKV_IMAGE) and removed afterwards, as when none was running.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
n=${JEPSEN_DOCKER_NODES:-3}
case " $* " in
*member*) spares=${JEPSEN_DOCKER_SPARES:-1} ;;
*) spares=${JEPSEN_DOCKER_SPARES:-0} ;;
esac
if [ "$spares" = 1 ] && [ "$n" != 3 ]; then
	echo "jepsen-docker: the spares n4 and n5 belong to the 3-node cluster; JEPSEN_DOCKER_NODES=$n has no room for them" >&2
	exit 3
fi
export RAFTKV_ADMIN_TOKEN=${RAFTKV_ADMIN_TOKEN:-raftkv-local}
started=0
fail() { # MESSAGE: say it, stop the cluster if this script started it, exit 3
	echo "jepsen-docker: $1" >&2
	[ "$started" = 1 ] && [ -z "${JEPSEN_KEEP_CLUSTER:-}" ] && "$ROOT/docker/down.sh"
	exit 3
}
if [ "${JEPSEN_DOCKER_FRESH:-0}" = 1 ] || ! curl -fs -m 2 http://127.0.0.1:12021/healthz >/dev/null; then
	"$ROOT/docker/up.sh" "$n" || { echo "jepsen-docker: docker/up.sh failed" >&2; exit 3; }
	started=1
fi
targets="compose:$n"
if [ "$spares" = 1 ]; then
	# shellcheck source=../docker/lib.sh
	. "$ROOT/docker/lib.sh"
	compose 3 --profile spares up -d n4 n5 || fail "the spares n4 and n5 did not start"
	voters_ok() { # five voters in n1's configuration, every node ready
		local k v
		v=$(curl -fs -m 2 -H "Authorization: Bearer $RAFTKV_ADMIN_TOKEN" \
			http://127.0.0.1:12021/admin/members 2>/dev/null | grep -o '"voter":true' | wc -l)
		[ "$v" -eq 5 ] || return 1
		for k in 1 2 3 4 5; do
			curl -fs -m 1 "http://127.0.0.1:$((12020 + k))/readyz" >/dev/null 2>&1 || return 1
		done
	}
	deadline=$((SECONDS + 90))
	until voters_ok; do
		if [ $SECONDS -ge $deadline ]; then
			docker logs --tail 5 n4 >&2 2>&1
			docker logs --tail 5 n5 >&2 2>&1
			fail "n4 and n5 did not become voters within 90 s"
		fi
		sleep 0.5
	done
	targets="compose:5"
fi
[ $# -gt 0 ] || set -- test
cmd=$1
shift
"$ROOT/jepsen/run.sh" "$cmd" --no-ssh --targets "$targets" "$@"
rc=$?
[ "$started" = 1 ] && [ -z "${JEPSEN_KEEP_CLUSTER:-}" ] && "$ROOT/docker/down.sh"
exit $rc
