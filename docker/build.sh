#!/bin/bash
# Builds the raftkv Docker image (raftkv:latest) from this checkout.
#
#   docker/build.sh                 base image if missing, then raftkv:latest
#   RAFTKV_IMAGE=raftkv:dev docker/build.sh
#
# No container registry may be reachable here, so when debian:bookworm-slim is not
# already present this script makes it: debootstrap --variant=minbase bookworm from
# the host's own Debian mirror (as configured for apt), tarred and `docker import`ed.
# The rootfs tarball is cached in build/docker/ so a second run only re-imports it.
#
# Environment:
#   RAFTKV_IMAGE          tag to build                        (raftkv:latest)
#   RAFTKV_BASE_IMAGE     base image for both stages          (debian:bookworm-slim)
#   RAFTKV_DEBIAN_MIRROR  mirror for debootstrap and apt      (from the host's apt sources)
#   RAFTKV_APT_PROXY      http proxy for apt in the build     (from the host's apt config)
#   RAFTKV_NO_BASE_BUILD=1  fail instead of debootstrapping a missing base image
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" # debootstrap lives in /usr/sbin
cd "$(dirname "$0")/.."
ROOT=$(pwd)

IMAGE=${RAFTKV_IMAGE:-raftkv:latest}
BASE=${RAFTKV_BASE_IMAGE:-debian:bookworm-slim}
CACHE=$ROOT/build/docker
SUITE=bookworm
t0=$(date +%s)
mkdir -p "$CACHE"

say() { printf 'docker/build.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v docker >/dev/null || die "docker not found"
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"

# --------------------------------------------------------------- host apt settings
# The first http(s) URI the host's apt uses for the main Debian archive.
host_mirror() {
	local f uri
	# deb822 .sources files
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk -v suite="$SUITE" '
			BEGIN { RS=""; FS="\n" }
			{
				u=""; s=""; ok=1
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^URIs:/)   { u=$i; sub(/^URIs:[ \t]*/, "", u); split(u, a, /[ \t]+/); u=a[1] }
					if ($i ~ /^Suites:/) { s=" " $i " " }
					if ($i ~ /^Enabled:[ \t]*no/) ok=0
				}
				if (ok && u != "" && s ~ (" " suite " ") && u !~ /security/) { print u; exit }
			}' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	# one-line format
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(awk -v suite="$SUITE" '
			$1 == "deb" {
				i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i+1) == suite && $i !~ /security/) { print $i; exit }
			}' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	echo "http://deb.debian.org/debian"
}

host_apt_proxy() {
	local p=""
	if command -v apt-config >/dev/null; then
		p=$(apt-config dump 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -n1)
	fi
	[ -z "$p" ] && p=${http_proxy:-${HTTP_PROXY:-}}
	case "$p" in DIRECT|false) p="" ;; esac
	echo "$p"
}

MIRROR=${RAFTKV_DEBIAN_MIRROR:-$(host_mirror)}
MIRROR=${MIRROR%/}
APT_PROXY=${RAFTKV_APT_PROXY-$(host_apt_proxy)}
say "Debian mirror: $MIRROR${APT_PROXY:+, apt proxy: $APT_PROXY}"

# --------------------------------------------------------------- base image
make_rootfs() {
	local tarball=$1 dir
	[ "$(id -u)" = 0 ] || die "building $BASE with debootstrap needs root (run as root, or docker import a Debian bookworm rootfs as $BASE)"
	if ! command -v debootstrap >/dev/null; then
		say "installing debootstrap (apt-get)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; } ||
			die "$BASE is not present and cannot be pulled, and debootstrap could not be installed (apt-get install debootstrap)"
	fi
	mkdir -p "$CACHE"
	dir=$(mktemp -d "$CACHE/rootfs.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$dir'" EXIT
	say "debootstrap --variant=minbase $SUITE from $MIRROR (once; cached in ${tarball#"$ROOT"/})"
	local env=()
	[ -n "$APT_PROXY" ] && env=(http_proxy="$APT_PROXY")
	env "${env[@]}" debootstrap --variant=minbase --components=main "$SUITE" "$dir" "$MIRROR" \
		>"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (full log: build/docker/debootstrap.log)"; }
	# What debian:bookworm-slim does: apt sources for the same mirror, no caches, no docs.
	local sec=${RAFTKV_DEBIAN_SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}
	cat >"$dir/etc/apt/sources.list" <<-EOF
		deb $MIRROR $SUITE main
		deb $MIRROR $SUITE-updates main
		deb $sec $SUITE-security main
	EOF
	# Mirrors served from a dated snapshot carry Release files past their Valid-Until.
	cat >"$dir/etc/apt/apt.conf.d/90raftkv" <<-'EOF'
		Acquire::Check-Valid-Until "false";
		APT::Install-Recommends "false";
		APT::Install-Suggests "false";
	EOF
	cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<-'EOF'
		DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		Dir::Cache::pkgcache "";
		Dir::Cache::srcpkgcache "";
	EOF
	cat >"$dir/etc/dpkg/dpkg.cfg.d/docker-nodoc" <<-'EOF'
		path-exclude /usr/share/doc/*
		path-include /usr/share/doc/*/copyright
		path-exclude /usr/share/man/*
		path-exclude /usr/share/info/*
		path-exclude /usr/share/locale/*
	EOF
	rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb "$dir"/var/log/*.log \
		"$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/*
	: >"$dir/etc/hostname"
	: >"$dir/etc/resolv.conf"
	tar --numeric-owner -C "$dir" -cf "$tarball.$$.part" . && mv "$tarball.$$.part" "$tarball"
	rm -rf "$dir"
	trap - EXIT
}

if docker image inspect "$BASE" >/dev/null 2>&1; then
	say "base image $BASE present"
else
	[ "${RAFTKV_NO_BASE_BUILD:-0}" = 1 ] && die "$BASE is not present and RAFTKV_NO_BASE_BUILD=1"
	tarball=$CACHE/$SUITE-minbase.tar
	[ -s "$tarball" ] || make_rootfs "$tarball"
	say "docker import ${tarball#"$ROOT"/} as $BASE"
	docker import \
		-c 'CMD ["bash"]' \
		-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		-m "debootstrap --variant=minbase $SUITE $MIRROR (raftkv docker/build.sh)" \
		"$tarball" "$BASE" >/dev/null
fi
t1=$(date +%s)

# --------------------------------------------------------------- raftkv image
# The context is a tar of the checkout less build outputs and VCS data, so the result
# does not depend on a .dockerignore and never ships the cached rootfs tarball.
say "docker build $IMAGE"
args=(--network host --force-rm -f docker/Dockerfile -t "$IMAGE"
	--build-arg "BASE_IMAGE=$BASE"
	--build-arg "APT_PROXY=$APT_PROXY")
[ -n "${RAFTKV_DOCKER_BUILD_ARGS:-}" ] && read -r -a extra <<<"$RAFTKV_DOCKER_BUILD_ARGS" && args+=("${extra[@]}")
# Modes, owners and times are normalised, so a checkout, a fresh clone and a `git archive`
# copy (664 under git's default umask) of the same files send the same context and reuse
# the same cached layers (tests/docker/50-readme.bats builds from such a copy).
tar -C "$ROOT" -c --sort=name --mode=go-w --owner=0 --group=0 --numeric-owner --mtime=@0 \
	--exclude=./.git --exclude=./build --exclude=./bin --exclude=./data \
	--exclude='*.o' --exclude='*.d' . |
	DOCKER_BUILDKIT=0 docker build "${args[@]}" - >"$CACHE/build.log" 2>&1 ||
	{ tail -n 40 "$CACHE/build.log" >&2; die "docker build failed (full log: build/docker/build.log)"; }
t2=$(date +%s)
say "built $IMAGE (base $((t1 - t0))s, image $((t2 - t1))s, total $((t2 - t0))s)"
