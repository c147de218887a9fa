#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (Prism, the official SDKs),
# then runs every test of the workspace. Servers the tests need are started and stopped by the tests
# (Prism, the emulator) or by the judge runner below.
set -euo pipefail
cd "$(dirname "$0")/.."
# One build from scratch: incremental compilation's caches would only double the disk it takes.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

echo "== tools"
# Prism (an OpenAPI mock server we did not write) judges the client's requests against the official spec.
if [ ! -x .tools/node_modules/.bin/prism ]; then
  npm ci --prefix .tools --no-audit --no-fund --loglevel=error
fi
export PRISM_BIN="$PWD/.tools/node_modules/.bin/prism"

# Each scripts/setup/*.sh installs (when missing) and exports what one part of the suite needs, e.g.
# redis-server for the actors' cluster tests or Cog's virtual environments for the emulator's.
for setup in scripts/setup/*.sh; do
  [ -e "$setup" ] || continue
  echo "== setup: $setup"
  # shellcheck source=/dev/null
  source "$setup"
done

echo "== formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
# The team's rule: no circle of imports bigger than two files.
python3 scripts/module-cycles.py src replicate-*/src

echo "== cargo test (workspace, all features, the ignored tests that need the tools above included)"
cargo test --workspace --all-features --no-fail-fast -- --include-ignored

if [ -x replicate-emulator/judges/run.sh ]; then
  echo "== official SDKs against the emulator"
  bash replicate-emulator/judges/run.sh
fi
