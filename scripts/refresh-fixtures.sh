#!/usr/bin/env bash
# Refreshes fixtures/ from the team's reference folder (../shared beside the checkout, or $1).
# The copies in fixtures/ are the source the tests read; this script is the only thing that reads ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-../shared}"
[[ -f "$src/replicate-openapi.json" ]] || { echo "no reference folder at $src" >&2; exit 1; }
cp "$src/replicate-openapi.json" fixtures/openapi.json
rm -rf fixtures/api-recordings fixtures/model-schemas
cp -r "$src/api-recordings" fixtures/api-recordings
cp -r "$src/model-schemas" fixtures/model-schemas
git status --short fixtures
