#!/usr/bin/env bash
# Refreshes the workspace's schema cache (.replicate/) for the 12 models of fixtures/model-schemas:
# starts the emulator loaded with those files and runs `replicate schema pull` for each model.
set -euo pipefail
cd "$(dirname "$0")/../.."
shared="${SCHEMAS:-fixtures/model-schemas}"
port="${PORT:-5078}"
cargo build -q -p replicate-emulator --bin replicate-emulator
cargo build -q -p replicate-cli --bin replicate
target/debug/replicate-emulator --port "$port" --models-dir "$shared" >/dev/null 2>&1 &
emulator=$!
trap 'kill "$emulator"' EXIT
sleep 1
export REPLICATE_API_TOKEN=local REPLICATE_BASE_URL="http://127.0.0.1:$port/v1"
for file in "$shared"/*.json; do
    model=$(sed -n 's/.*"_model": *"\([^"]*\)".*/\1/p' "$file" | head -n 1)
    target/debug/replicate schema pull "$model" --dir .replicate
done
target/debug/replicate schema check --dir .replicate
