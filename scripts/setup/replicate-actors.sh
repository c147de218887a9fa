# Sourced by scripts/test.sh: what replicate-actors' cluster tests need.
# Redis 7 (Debian's redis-server): each test starts its own server on a free port and stops it.
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi
REDIS_SERVER="$(command -v redis-server)"
export REDIS_SERVER
