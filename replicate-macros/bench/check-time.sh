#!/usr/bin/env bash
# The compile-time cost of #[replicate::model]: `cargo check` of a crate declaring the 12 models of
# fixtures/model-schemas (from the workspace's .replicate/ cache) against the same crate without them,
# with dependencies already built; then the generated lines for the largest schema (stability-ai/sdxl).
#
#   bash replicate-macros/bench/check-time.sh [runs]      (default 5 runs each; prints medians)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-5}"
work="$root/target/bench-typed"
export CARGO_TARGET_DIR="$work/target"
export REPLICATE_SCHEMA_DIR="$root/.replicate"
mkdir -p "$work"

# shellcheck source=scratch-crate.sh
. "$root/replicate-macros/bench/scratch-crate.sh"
make_crate() { # name, lib.rs body
    write_manifest "$work/$1" "$1"
    printf '%s\n' "$2" > "$work/$1/src/lib.rs"
}

models="$(cat "$root/replicate-macros/tests/common/models.rs")"
make_crate typed-with "$models
pub fn client() -> replicate::Result<replicate::Replicate> { replicate::Replicate::new() }"
make_crate typed-without "pub fn client() -> replicate::Result<replicate::Replicate> { replicate::Replicate::new() }"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # crate -> median seconds of `cargo check` after touching lib.rs
    (cd "$work/$1" && cargo check -q 2>/dev/null)   # warm: dependencies built
    for _ in $(seq "$runs"); do
        touch "$work/$1/src/lib.rs"
        local start end
        start=$(date +%s.%N)
        (cd "$work/$1" && cargo check -q)
        end=$(date +%s.%N)
        echo "$end - $start" | bc -l
    done | median
}

for incremental in 1 0; do
    export CARGO_INCREMENTAL=$incremental
    without=$(measure typed-without)
    with=$(measure typed-with)
    echo "cargo check, CARGO_INCREMENTAL=$incremental, median of $runs (dependencies built):"
    printf '  without the 12 models: %.2f s\n' "$without"
    printf '  with the 12 models:    %.2f s\n' "$with"
    printf '  added:                 %.2f s\n' "$(echo "$with - $without" | bc)"
done
unset CARGO_INCREMENTAL

# Generated lines for the largest schema: the macro's own output, rustfmt-formatted.
(cd "$root" && REPLICATE_MACROS_EXPANSION_DIR="$work/expansions" cargo test -q -p replicate-macros --lib -- write_expansions >/dev/null)
for f in "$work"/expansions/*.rs; do rustfmt --edition 2024 "$f"; done
echo "generated lines (rustfmt), largest first:"
wc -l "$work"/expansions/*.rs | sort -rn | head -n 4
