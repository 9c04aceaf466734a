#!/usr/bin/env bash
# `make images`: build gameday/targets:latest, the image the docker backend runs the bundled
# services from. No registry needed: the base image comes from docker/build-base.sh (debootstrap,
# cached) and the Python deps from a wheelhouse built on the host (cached), pinned to the host
# .venv's versions. Rebuilds only when its inputs change (label gameday.sources).
#
# Env: BASE_IMAGE=python:3.11-slim   use a registry base image instead of the offline one
#      WHEELS=0                      let pip inside the build use the index (needs a registry)
#      PYTHON=.venv/bin/python       the host Python whose versions are pinned
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
IMAGE="${GAMEDAY_DOCKER_IMAGE:-gameday/targets:latest}"
CACHE="${GAMEDAY_CACHE:-/var/cache/gameday}"
die() { echo "build-images: $*" >&2; exit 3; }

docker info >/dev/null 2>&1 || die "no Docker engine reachable (start one: 'dockerd > /tmp/dockerd.log 2>&1 &', or set DOCKER_HOST)"
[ -x "$PYTHON" ] || die "$PYTHON missing: run 'make install' first"

if [ -z "${BASE_IMAGE:-}" ]; then
  docker/build-base.sh
  BASE_IMAGE="${GAMEDAY_BASE_IMAGE:-gameday/base:bookworm}"
fi

sources=$("$PYTHON" -c "from simulator.targets.backends.docker_image import sources_hash; print(sources_hash())")
base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || echo "$BASE_IMAGE")
have=$(docker image inspect -f '{{ index .Config.Labels "gameday.sources" }}/{{ index .Config.Labels "gameday.base" }}' \
       "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$sources/$base_id" ]; then
  echo "build-images: $IMAGE is up to date (sources $sources)"; exit 0
fi

ctx=$(mktemp -d /tmp/gameday-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp docker/Dockerfile docker/requirements.txt "$ctx/"
# pin what the host runs (minus the project itself)
"$PYTHON" -m pip freeze --exclude-editable 2>/dev/null | grep -viE '^(gameday|-e )' > "$ctx/constraints.txt"
mkdir -p "$ctx/wheels"
if [ "${WHEELS:-1}" = "1" ]; then
  key=$(cat docker/requirements.txt "$ctx/constraints.txt" | sha256sum | cut -c1-12)
  wheels="$CACHE/wheels-$key"
  if [ ! -f "$wheels/.complete" ]; then
    echo "build-images: downloading the wheelhouse into $wheels (once)"
    mkdir -p "$wheels"
    "$PYTHON" -m pip download --quiet --only-binary=:all: -d "$wheels" \
      -r docker/requirements.txt -c "$ctx/constraints.txt" 2> >(grep -v "is ignored" >&2) \
      || die "could not download the wheels (pip download); see above"
    touch "$wheels/.complete"
  fi
  cp "$wheels"/*.whl "$ctx/wheels/"
fi
tar -C . --exclude=__pycache__ --exclude='*.pyc' -cf - simulator | tar -C "$ctx" -xf -

echo "build-images: building $IMAGE on $BASE_IMAGE (sources $sources)"
docker build --quiet --pull=false --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  --label "gameday.sources=$sources" --label "gameday.base=$base_id" -t "$IMAGE" "$ctx" >/dev/null
docker image prune --force --filter "label=gameday.sources" >/dev/null 2>&1 || true
echo "build-images: built $IMAGE"
