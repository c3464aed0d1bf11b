#!/usr/bin/env bash
# docker.sh — a private Docker engine for make test-compose, and the offline
# base images the compose override uses in place of public ones.
#
#   scripts/docker.sh up      install docker.io/docker-compose when missing, start dockerd,
#                             print DOCKER_HOST=…
#   scripts/docker.sh images  build the local stand-in images (deploy/local/Dockerfile) from
#                             an offline Debian base; cached in the engine's data root
#   scripts/docker.sh down    stop dockerd (by PID) and remove the docker0 bridge and the
#                             iptables chains it leaves behind
#   scripts/docker.sh env     print DOCKER_HOST=…
#
# Settings (environment):
#   RECMESH_DOCKER_CACHE  image store and base tarball, kept between runs
#                         default ~/.cache/recmesh/docker
#   RECMESH_DOCKER_RUN    socket, pid file, exec root   default /tmp/recmesh-docker
#   DEBIAN_MIRROR         mirror debootstrap uses       default: the first deb URI in apt's sources
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${RECMESH_DOCKER_CACHE:-$HOME/.cache/recmesh/docker}
RUN=${RECMESH_DOCKER_RUN:-/tmp/recmesh-docker}
SOCK=$RUN/docker.sock
export DOCKER_HOST=unix://$SOCK
DOCKER=/usr/bin/docker
BASE=recmesh-local/debian:bookworm

say() { printf 'docker.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
running() { [ -f "$RUN/dockerd.pid" ] && kill -0 "$(cat "$RUN/dockerd.pid")" 2>/dev/null; }

install() {
  [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker-compose ] && [ -x /usr/sbin/debootstrap ] && return
  [ "$(id -u)" = 0 ] || die "dockerd, docker-compose or debootstrap is missing: apt-get install docker.io docker-compose debootstrap"
  say "installing docker.io, docker-compose and debootstrap (about 2 min)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose debootstrap >/dev/null
}

up() {
  install
  mkdir -p "$CACHE/root" "$RUN/exec"
  if ! running; then
    dockerd --host "$DOCKER_HOST" --data-root "$CACHE/root" --exec-root "$RUN/exec" \
      --pidfile "$RUN/dockerd.pid" >"$RUN/dockerd.log" 2>&1 &
    for _ in $(seq 1 150); do $DOCKER info >/dev/null 2>&1 && break; sleep 0.2; done
    $DOCKER info >/dev/null 2>&1 || { tail -20 "$RUN/dockerd.log" >&2; die "dockerd did not start; see $RUN/dockerd.log"; }
    say "dockerd up ($DOCKER_HOST, images in $CACHE/root)"
  fi
  echo "DOCKER_HOST=$DOCKER_HOST"
}

down() {
  if running; then
    local pid; pid=$(cat "$RUN/dockerd.pid")
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    say "dockerd stopped"
  fi
  rm -f "$RUN/dockerd.pid"
  # What dockerd leaves behind: its bridge and its iptables chains.
  ip link delete docker0 2>/dev/null || true
  for t in filter nat; do
    iptables -t "$t" -S 2>/dev/null | grep -E -- '-j DOCKER|docker0' | sed 's/^-A/-D/' | while read -r rule; do
      eval iptables -t "$t" "$rule" 2>/dev/null || true
    done
    for c in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER; do
      iptables -t "$t" -F "$c" 2>/dev/null || true
      iptables -t "$t" -X "$c" 2>/dev/null || true
    done
  done
}

# base: a Debian bookworm minbase image made with debootstrap, no pull; the
# rootfs tarball is kept so a wiped image store does not bootstrap again.
base() {
  $DOCKER image inspect "$BASE" >/dev/null 2>&1 && return
  local tarball=$CACHE/debian-bookworm-minbase.tar
  if [ ! -s "$tarball" ]; then
    local mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p; s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -1)}
    [ -n "$mirror" ] || die "no Debian mirror found in apt's sources; set DEBIAN_MIRROR"
    local rootfs; rootfs=$(mktemp -d /tmp/recmesh-rootfs-XXXX)
    say "debootstrap bookworm from $mirror (about 3 min, once)"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$RUN/debootstrap.log" 2>&1 ||
      { tail -20 "$RUN/debootstrap.log" >&2; rm -rf "$rootfs"; die "debootstrap failed"; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
  fi
  $DOCKER import "$tarball" "$BASE" >/dev/null
  say "imported $BASE"
}

# images: the stand-ins of docker-compose.local.yml, and the Go builder base
# the Dockerfile takes with --build-arg GO_IMAGE=…
images() {
  base
  local bin=${RECMESH_TOOLS:-$HOME/.cache/recmesh/bin}
  for b in consul jaeger prometheus; do [ -x "$bin/$b" ] || die "$bin/$b is missing: run scripts/deps.sh build"; done
  # A stand-in is rebuilt only when its recipe or a binary it copies changed.
  local stamp; stamp=$( (cat deploy/local/*; ls -l --time-style=+%s "$bin/consul" "$bin/jaeger" "$bin/prometheus"; cat /etc/ssl/certs/ca-certificates.crt; go version) | sha256sum | cut -c1-16)
  local todo=()
  for t in golang postgres redis consul jaeger prometheus grafana; do
    [ "$($DOCKER image inspect -f '{{index .Config.Labels "recmesh.standin"}}' "recmesh-local/$t" 2>/dev/null)" = "$stamp" ] || todo+=("$t")
  done
  [ ${#todo[@]} = 0 ] && { say "stand-in images are current"; return; }
  local ctx; ctx=$(mktemp -d /tmp/recmesh-ctx-XXXX)
  cp "$bin/consul" "$bin/jaeger" "$bin/prometheus" "$ctx/"
  cp deploy/local/*.sh "$ctx/"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
  # The Go toolchain of this machine, for the builder stage (no golang image can be pulled).
  tar -C "$(go env GOROOT)/.." -cf "$ctx/go.tar" --exclude='go/test' "$(basename "$(go env GOROOT)")"
  for t in "${todo[@]}"; do
    DOCKER_BUILDKIT=1 $DOCKER build -q --build-arg BASE=$BASE --label "recmesh.standin=$stamp" --target "$t" \
      -t "recmesh-local/$t" -f deploy/local/Dockerfile "$ctx" >/dev/null || { rm -rf "$ctx"; die "building the $t stand-in failed"; }
    say "built recmesh-local/$t"
  done
  rm -rf "$ctx"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  env) echo "DOCKER_HOST=$DOCKER_HOST" ;;
  base) base ;;
  images) images ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
