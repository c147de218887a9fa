#!/usr/bin/env bash
# Runs the official Replicate clients ("judges") against a freshly started emulator.
#
#   bash replicate-emulator/judges/run.sh [judge ...]     judges: py-v2 js py-v1 shapes (default: all)
#
# Installs what is missing (node_modules, .venv-v2, .venv-v1; idempotent), builds the emulator
# (debug profile; JUDGES_PROFILE=release for an optimised build; JUDGES_EMULATOR_BIN=path to use a
# prebuilt binary instead), starts it on a free port with a
# short time scale, runs every judge, stops the emulator, and ends with the line `N passed, M failed`
# (exit status 1 when M > 0 or a judge could not run).
set -uo pipefail

JUDGES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$JUDGES/../.." && pwd)"
PROFILE="${JUDGES_PROFILE:-debug}"
TIME_SCALE="${JUDGES_TIME_SCALE:-0.1}"
GOOD_TOKEN="r8_judge_good_token"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/replicate-judges.XXXXXX")"
EMU_PID=""

cleanup() {
    if [[ -n "$EMU_PID" ]] && kill -0 "$EMU_PID" 2>/dev/null; then
        kill "$EMU_PID" 2>/dev/null
        wait "$EMU_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '[judges] %s\n' "$*" >&2; }

# Fails the whole run (counts as one failure) before any judge ran.
die() {
    log "$*"
    echo "0 passed, 1 failed"
    exit 1
}

# ---------------------------------------------------------------- install (idempotent)

# Re-installs only when the manifest changed since the last successful install.
stamp_ok() { [[ -f "$2" ]] && [[ "$(cat "$2")" == "$(sha256sum "$1" | cut -d' ' -f1)" ]]; }
stamp_write() { sha256sum "$1" | cut -d' ' -f1 >"$2"; }

install_node() {
    local lock="$JUDGES/package-lock.json" stamp="$JUDGES/node_modules/.judges-stamp"
    stamp_ok "$lock" "$stamp" && return 0
    log "installing node packages (npm ci)"
    (cd "$JUDGES" && npm ci --no-audit --no-fund --loglevel=error >&2) || return 1
    stamp_write "$lock" "$stamp"
}

install_venv() { # $1 = venv dir, $2 = requirements file
    local venv="$JUDGES/$1" req="$JUDGES/$2" stamp="$JUDGES/$1/.judges-stamp"
    stamp_ok "$req" "$stamp" && return 0
    log "installing $2 into $1"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" || return 1
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2 || return 1
    stamp_write "$req" "$stamp"
}

command -v node >/dev/null || die "node is not installed"
command -v python3 >/dev/null || die "python3 is not installed"
install_node || die "npm ci failed"
install_venv .venv-v2 requirements-v2.txt || die "pip install (v2) failed"
install_venv .venv-v1 requirements-v1.txt || die "pip install (v1) failed"
# Cog (both generations) for the judges of --cog models: installed into .tools/ when missing.
if [[ -z "${COG_PYTHON_09:-}" || -z "${COG_PYTHON_023:-}" ]]; then
    # shellcheck source=/dev/null
    source "$ROOT/scripts/setup/replicate-emulator.sh" >&2 || die "installing Cog failed"
fi

# ---------------------------------------------------------------- build and start the emulator

if [[ -n "${JUDGES_EMULATOR_BIN:-}" ]]; then
    BIN="$JUDGES_EMULATOR_BIN" # a prebuilt binary: no build
else
    log "building replicate-emulator ($PROFILE)"
    build_flags=(-p replicate-emulator --bin replicate-emulator)
    [[ "$PROFILE" == release ]] && build_flags+=(--release)
    (cd "$ROOT" && cargo build --quiet "${build_flags[@]}" >&2) || die "cargo build failed"
    target_dir="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')" || target_dir="$ROOT/target"
    BIN="$target_dir/$PROFILE/replicate-emulator"
fi
[[ -x "$BIN" ]] || die "emulator binary not found at $BIN"

# Reference material (recordings, Cog schemas): the repository's own copies in fixtures/.
SHARED="${JUDGES_FIXTURES:-$ROOT/fixtures}"
[[ -d "$SHARED/model-schemas" ]] || die "no model-schemas in $SHARED (set JUDGES_FIXTURES)"

# Only GOOD_TOKEN is accepted, so the judges can provoke a 401 with any other token. One real Cog
# schema is loaded too (file input, object output); only that one, as a models-dir file named like
# a built-in model replaces it (the whole folder is judged on an emulator of its own).
mkdir -p "$WORK/models"
ln -s "$SHARED/model-schemas/soykertje__whisper.json" "$WORK/models/soykertje__whisper.json"
"$BIN" --port 0 --time-scale "$TIME_SCALE" --token "$GOOD_TOKEN" --models-dir "$WORK/models" \
    >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMU_PID=$!

BASE_URL=""
for _ in $(seq 1 100); do
    BASE_URL="$(grep -m1 -o 'http://[^ ]*/v1' "$WORK/emulator.out" 2>/dev/null || true)"
    [[ -n "$BASE_URL" ]] && break
    kill -0 "$EMU_PID" 2>/dev/null || break
    sleep 0.1
done
[[ -n "$BASE_URL" ]] || die "emulator did not print its base URL: $(cat "$WORK/emulator.err")"
for _ in $(seq 1 50); do
    code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $GOOD_TOKEN" "$BASE_URL/account" || true)"
    [[ "$code" == 200 ]] && break
    sleep 0.1
done
[[ "$code" == 200 ]] || die "emulator at $BASE_URL does not answer GET /account (last status: $code)"
log "emulator ready at $BASE_URL (time scale $TIME_SCALE)"

export REPLICATE_BASE_URL="$BASE_URL"
export REPLICATE_API_TOKEN="$GOOD_TOKEN"
export REPLICATE_POLL_INTERVAL="${REPLICATE_POLL_INTERVAL:-0.05}"
export JUDGES_TIME_SCALE="$TIME_SCALE"
export JUDGES_EMULATOR_BIN="$BIN"
export JUDGES_RECORDINGS="$SHARED/api-recordings"
export JUDGES_MODEL_SCHEMAS="$SHARED/model-schemas"

# ---------------------------------------------------------------- judges

PASSED=0
FAILED=0

# Adds the counts a pytest run printed ("... 3 passed, 1 failed ..." on its last line).
count_pytest() { # $1 = output file, $2 = exit status
    local summary p f e
    summary="$(tail -n 1 "$1")"
    p="$(grep -o '[0-9]\+ passed' <<<"$summary" | grep -o '[0-9]\+' || echo 0)"
    f="$(grep -o '[0-9]\+ failed' <<<"$summary" | grep -o '[0-9]\+' || echo 0)"
    e="$(grep -o '[0-9]\+ error' <<<"$summary" | grep -o '[0-9]\+' || echo 0)"
    if [[ "$2" != 0 && $((f + e)) == 0 ]]; then f=1; fi # crashed before reporting
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f + e))
}

# Adds the counts node --test printed ("# pass N" / "# fail N").
count_node() { # $1 = output file, $2 = exit status
    local p f
    p="$(grep -o '^# pass [0-9]\+' "$1" | grep -o '[0-9]\+$' || echo 0)"
    f="$(grep -o '^# fail [0-9]\+' "$1" | grep -o '[0-9]\+$' || echo 0)"
    if [[ "$2" != 0 && "$f" == 0 ]]; then f=1; fi
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
}

run_pytest() { # $1 = label, $2 = venv, $3... = pytest args
    local label="$1" venv="$2"
    shift 2
    log "judge $label"
    (cd "$JUDGES" && "$JUDGES/$venv/bin/python" -m pytest -q -p no:cacheprovider -rfE "$@") 2>&1 | tee "$WORK/$label.out"
    count_pytest "$WORK/$label.out" "${PIPESTATUS[0]}"
}

run_js() {
    log "judge js"
    (cd "$JUDGES" && node --test --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$WORK/js.out" js/) 2>&1
    count_node "$WORK/js.out" "$?"
}

selected=("$@")
[[ ${#selected[@]} -gt 0 ]] || selected=(py-v2 js py-v1 shapes)
for judge in "${selected[@]}"; do
    case "$judge" in
    py-v2) run_pytest py-v2 .venv-v2 py_v2 ;;
    js) run_js ;;
    py-v1) run_pytest py-v1 .venv-v1 py_v1 ;;
    shapes) run_pytest shapes .venv-v2 shapes ;;
    *) log "unknown judge $judge"; FAILED=$((FAILED + 1)) ;;
    esac
done

if ! kill -0 "$EMU_PID" 2>/dev/null; then
    log "the emulator exited during the run: $(tail -n 20 "$WORK/emulator.err")"
    FAILED=$((FAILED + 1))
fi

echo "$PASSED passed, $FAILED failed"
[[ "$FAILED" == 0 ]]
