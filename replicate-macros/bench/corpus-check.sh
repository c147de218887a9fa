#!/usr/bin/env bash
# Compiles a crate declaring every model version of fixtures/model-schemas (the 12 and the 80 of
# corpus/), laid out as a schema cache, to show that every real schema expands into code that compiles.
#
#   bash replicate-macros/bench/corpus-check.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
shared="${SCHEMAS:-$root/fixtures/model-schemas}"
work="$root/target/bench-corpus"
export CARGO_TARGET_DIR="$work/target"
export REPLICATE_SCHEMA_DIR="$work/cache"
rm -rf "$work/cache" "$work/crate"
mkdir -p "$work/cache" "$work/crate/src"
lib="$work/crate/src/lib.rs"
echo "#![allow(dead_code)]" > "$lib"
i=0
for file in "$shared"/*.json "$shared"/corpus/*.json; do
    stem="$(basename "$file" .json)"
    owner="${stem%%__*}"
    name="${stem#*__}"
    mkdir -p "$work/cache/$owner"
    cp "$file" "$work/cache/$owner/$name.json"
    i=$((i + 1))
    printf '#[replicate_macros::model("%s/%s")]\npub struct Model%d;\n' "$owner" "$name" "$i" >> "$lib"
done
# shellcheck source=scratch-crate.sh
. "$root/replicate-macros/bench/scratch-crate.sh"
write_manifest "$work/crate" typed-corpus
cd "$work/crate"
start=$(date +%s.%N)
cargo check -q
end=$(date +%s.%N)
printf '%d models compiled (cargo check, dependencies included on a cold target: %.1f s)\n' "$i" "$(echo "$end - $start" | bc -l)"
