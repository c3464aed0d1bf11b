#!/bin/sh
# Stand-in for the redis image's entrypoint: redis-server without protected
# mode (the container network is the boundary), other commands as given.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  exec redis-server --protected-mode no "$@"
fi
exec "$@"
