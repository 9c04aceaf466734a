#!/usr/bin/env bash
# Build gameday/base:bookworm with no registry: a Debian bookworm root filesystem from
# debootstrap (minbase + python3 + python3-venv), `docker import`ed. The rootfs tarball is
# cached under $GAMEDAY_CACHE (default /var/cache/gameday), so a second build is seconds.
# Usage: docker/build-base.sh [--force]     Env: DEBIAN_MIRROR (default: the machine's apt mirror)
set -euo pipefail

TAG="${GAMEDAY_BASE_IMAGE:-gameday/base:bookworm}"
CACHE="${GAMEDAY_CACHE:-/var/cache/gameday}"
SUITE=bookworm
PACKAGES=python3,python3-venv
RECIPE="v1:$SUITE:minbase:$PACKAGES"      # bump to rebuild the tarball
TARBALL="$CACHE/rootfs-$SUITE-$(printf %s "$RECIPE" | sha256sum | cut -c1-12).tar"
FORCE="${1:-}"

die() { echo "build-base: $*" >&2; exit 3; }
docker info >/dev/null 2>&1 || die "no Docker engine reachable (start one: 'dockerd > /tmp/dockerd.log 2>&1 &', or set DOCKER_HOST)"

have=$(docker image inspect -f '{{ index .Config.Labels "gameday.recipe" }}' "$TAG" 2>/dev/null || true)
if [ "$FORCE" != "--force" ] && [ "$have" = "$RECIPE" ]; then
  echo "build-base: $TAG is up to date ($RECIPE)"; exit 0
fi

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  # the first Debian (not -security) URI this machine's apt uses; deb822 or one-line format
  local m
  m=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
      | grep -v security | grep -oE 'https?://[^ ]*/debian/?' | head -1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

if [ ! -s "$TARBALL" ] || [ "$FORCE" = "--force" ]; then
  command -v debootstrap >/dev/null || die "debootstrap missing: apt-get install -y debootstrap"
  mkdir -p "$CACHE/debs"
  root=$(mktemp -d /tmp/gameday-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "build-base: debootstrap $SUITE from $(mirror) (once; cached in $TARBALL)"
  debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$CACHE/debs" "$SUITE" "$root" "$(mirror)" \
    > "$CACHE/debootstrap.log" 2>&1 || { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
         "$root"/usr/share/man/* "$root"/usr/share/locale/*
  tar --numeric-owner -C "$root" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
fi

docker import --change "LABEL gameday.recipe=$RECIPE" --change 'CMD ["/bin/bash"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
  "$TARBALL" "$TAG" >/dev/null
echo "build-base: imported $TAG from $TARBALL"
