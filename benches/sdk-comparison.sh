#!/usr/bin/env bash
# The SDK comparison benchmarks: our client (facade `replicate`) against the official SDKs, on the same
# emulator process, same machine, one run each, side by side.
#
#   bash benches/sdk-comparison.sh
#
# Builds the bench programs in release (`cargo bench --no-run`), starts the emulator
# (benches/sdk_comparison_server.rs: the built-in models plus `bench/tokens`) as its own process for each
# case, runs our client (benches/sdk_comparison.rs) and the official SDK's driver (benches/official/)
# one after the other against it, and prints a table. Figures per client process: wall time, CPU time
# over the measured window (clock_gettime / time.process_time / process.cpuUsage), CPU time of the whole
# process (/usr/bin/time: includes interpreter start-up and imports), and the requests the emulator
# counted while that client ran (GET /v1/_emulator/stats before and after).
#
# The official SDKs come from replicate-emulator/judges (replicate==2.0.0b4 in .venv-v2,
# replicate@1.4.0 in node_modules); install them with `bash replicate-emulator/judges/run.sh py-v2 js`.
# Environment: BENCH_RUNS (2000), BENCH_CONCURRENCY (100), BENCH_TOKENS (200000), BENCH_RUN_SCALE (0.01:
# hello-world then takes 2 ms of model time; at 0.05 the emulator's timer granularity, ~12 ms a run, is a
# floor that caps any ratio near 8x),
# BENCH_PYTHON, BENCH_REPLICATE_JS (other SDK installs), BENCH_RESULTS (also write the raw JSON lines here).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JUDGES="$ROOT/replicate-emulator/judges"
PY="${BENCH_PYTHON:-$JUDGES/.venv-v2/bin/python}"
REPLICATE_JS="${BENCH_REPLICATE_JS:-$JUDGES/node_modules/replicate}"
RUN_SCALE="${BENCH_RUN_SCALE:-0.01}"
export BENCH_RUNS="${BENCH_RUNS:-2000}" BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-100}"
export BENCH_TOKENS="${BENCH_TOKENS:-200000}" BENCH_TOKEN="r8_bench" REPLICATE_JS
# The official SDKs read these; the comparison wants their defaults (0.5 s polling) and our URL only.
unset REPLICATE_POLL_INTERVAL REPLICATE_API_TOKEN REPLICATE_BASE_URL

WORK="$(mktemp -d "${TMPDIR:-/tmp}/replicate-bench.XXXXXX")"
RESULTS="$WORK/results.jsonl"
EMU_PID=""

log() { printf '[bench] %s\n' "$*" >&2; }

stop_emulator() {
    if [[ -n "$EMU_PID" ]] && kill -0 "$EMU_PID" 2>/dev/null; then
        kill "$EMU_PID" 2>/dev/null || true
        wait "$EMU_PID" 2>/dev/null || true
    fi
    EMU_PID=""
}
cleanup() {
    stop_emulator
    rm -rf "$WORK"
}
trap cleanup EXIT

[[ -x "$PY" ]] && "$PY" -c 'import replicate' 2>/dev/null ||
    { log "no official Python SDK at $PY: run 'bash replicate-emulator/judges/run.sh py-v2 js' once"; exit 1; }
[[ -f "$REPLICATE_JS/package.json" ]] ||
    { log "no official JS SDK at $REPLICATE_JS: run 'bash replicate-emulator/judges/run.sh py-v2 js' once"; exit 1; }
[[ -x /usr/bin/time ]] || { log "/usr/bin/time is missing (apt-get install time)"; exit 1; }
PY_VERSION="$("$PY" -c 'import importlib.metadata as m; print(m.version("replicate"))')"
JS_VERSION="$(node -p "require('$REPLICATE_JS/package.json').version")"
CLK_TCK="$(getconf CLK_TCK)"

# ------------------------------------------------------------------ build (release)

log "building the bench programs (release)"
(cd "$ROOT" && cargo bench -p replicate --no-run --bench sdk_comparison --bench sdk_comparison_server \
    --message-format=json-render-diagnostics >"$WORK/build.json")
exe_of() { # $1 = bench target name
    python3 -c 'import json,sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[2] and m.get("executable"):
        print(m["executable"])' "$WORK/build.json" "$1" | tail -n 1
}
CLIENT="$(exe_of sdk_comparison)"
EMULATOR="$(exe_of sdk_comparison_server)"
[[ -x "$CLIENT" && -x "$EMULATOR" ]] || { log "bench executables not found"; exit 1; }

# ------------------------------------------------------------------ helpers

start_emulator() { # $1 = time scale
    stop_emulator
    "$EMULATOR" --serve --time-scale "$1" >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
    EMU_PID=$!
    BENCH_BASE_URL=""
    for _ in $(seq 1 100); do
        BENCH_BASE_URL="$(grep -m1 -o 'http://[^ ]*/v1' "$WORK/emulator.out" 2>/dev/null || true)"
        [[ -n "$BENCH_BASE_URL" ]] && break
        sleep 0.05
    done
    [[ -n "$BENCH_BASE_URL" ]] || { log "the emulator did not start: $(cat "$WORK/emulator.err")"; exit 1; }
    export BENCH_BASE_URL
    log "emulator (pid $EMU_PID, time scale $1) at $BENCH_BASE_URL"
}

# Requests the emulator counted so far, stats calls excluded.
emulator_requests() {
    curl -sf "$BENCH_BASE_URL/_emulator/stats" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["routes"]; print(sum(n for k,n in r.items() if "_emulator" not in k))'
}

# The emulator's CPU seconds so far (utime + stime).
emulator_cpu() {
    awk -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$EMU_PID/stat"
}

# measure CASE CLIENT command...: runs one client process, appends its figures to the results.
measure() {
    local case="$1" who="$2"
    shift 2
    log "$case: $who"
    local req0 cpu0 req1 cpu1 line
    req0="$(emulator_requests)"
    cpu0="$(emulator_cpu)"
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" ||
        log "$who exited with an error: $(tail -n 5 "$WORK/err")"
    req1="$(emulator_requests)"
    cpu1="$(emulator_cpu)"
    line="$(tail -n 1 "$WORK/out")"
    [[ -n "$line" ]] || line='{"error": "no output"}'
    python3 - "$case" "$who" "$line" "$(cat "$WORK/time" | tail -n 1)" "$((req1 - req0))" "$cpu0" "$cpu1" >>"$RESULTS" <<'PY'
import json, sys
case, who, line, t, requests, cpu0, cpu1 = sys.argv[1:]
figures = json.loads(line)
wall, user, system, rss = t.split()
figures.update(case=case, client=who, requests=int(requests), process_wall_s=float(wall),
               process_cpu_s=float(user) + float(system), max_rss_kb=int(rss),
               emulator_cpu_s=round(float(cpu1) - float(cpu0), 2))
print(json.dumps(figures))
PY
    sleep 0.5
}

# ------------------------------------------------------------------ the benchmarks

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
OFFICIAL="$ROOT/benches/official"

# 1. hello-world runs at concurrency 100: at the chosen time scale, and with no model time at all.
for scale in "$RUN_SCALE" 0; do
    start_emulator "$scale"
    measure "run@$scale" ours "$CLIENT" run
    measure "run@$scale" python "$PY" "$OFFICIAL/py_bench.py" run
done

# 2. 200,000 streamed tokens, instant emission: small chunks (burst 1) and ~40 KB chunks (burst 1000).
start_emulator 1
for burst in 1 1000; do
    BENCH_BURST="$burst" measure "stream@burst$burst" ours "$CLIENT" stream
    BENCH_BURST="$burst" measure "stream@burst$burst" js node "$OFFICIAL/js_stream.cjs"
done

# 3. A 10-second prediction followed by polling only, time scale 1.
start_emulator 1
measure poll ours "$CLIENT" poll
measure poll python "$PY" "$OFFICIAL/py_bench.py" poll
stop_emulator

[[ -n "${BENCH_RESULTS:-}" ]] && cp "$RESULTS" "$BENCH_RESULTS"

# ------------------------------------------------------------------ the table

python3 - "$RESULTS" "$PY_VERSION" "$JS_VERSION" "$RUN_SCALE" "$(nproc)" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
path, py_version, js_version, run_scale, cores, load_before, load_after = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
by = {(r["case"], r["client"]): r for r in rows}

def get(case, who, key):
    r = by.get((case, who), {})
    if r.get("error"):
        return None
    return r.get(key)

def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if unit == "×":
        return f"{v:,.1f}×" if v >= 10 else f"{v:.2f}×"
    if isinstance(v, float):
        if abs(v) >= 1000:
            s = f"{v:,.0f}"
        elif abs(v) >= 10:
            s = f"{v:.1f}"
        elif abs(v) >= 0.01:
            s = f"{v:.3f}"
        else:
            s = f"{v:.4f}"
    else:
        s = f"{v:,}"
    return s + unit

table = []
def row(what, ours, theirs, better="lower", target=None):
    ratio = None
    if ours is not None and theirs is not None and ours > 0 and theirs > 0:
        ratio = theirs / ours if better == "lower" else ours / theirs
    met = ""
    if target is not None:
        met = "yes" if target(ours, ratio) else "NO"
    table.append((what, ours, theirs, ratio, met))

def show(theirs, width=34, cell=12):
    """Prints the rows collected since the last call, then empties the table."""
    print(f"   {'':{width}} {'ours':>{cell}} {theirs:>{cell}} {'ratio':>8}  target met")
    for what, o, t, r, met in table:
        print(f"   {what:{width}} {fmt(o):>{cell}} {fmt(t):>{cell}} {fmt(r, '×'):>8}  {met}")
    table.clear()

print(f"\nSDK comparison: ours = replicate (this checkout), Python = replicate=={py_version}, "
      f"JS = replicate@{js_version}; {cores} cores; one run each; load average before {load_before}, "
      f"after {load_after} (other processes on the machine slow the interpreters' wall times most)\n")

for scale in (run_scale, "0"):
    c = f"run@{scale}"
    n = get(c, "ours", "runs")
    oks = (get(c, "ours", "ok"), get(c, "python", "ok"))
    print(f"1. {n} hello-world runs, concurrency {get(c, 'ours', 'concurrency')}, time scale {scale} "
          f"(model time {0.2 * float(scale):.3f} s per run, so no client can finish in less than "
          f"{(n or 0) / (get(c, 'ours', 'concurrency') or 1) * 0.2 * float(scale):.2f} s); "
          f"succeeded: ours {oks[0]}, Python {oks[1]}")
    row("wall time (s)", get(c, "ours", "wall_s"), get(c, "python", "wall_s"),
        target=(lambda o, r: r is not None and r >= 10) if scale == run_scale else None)
    row("client CPU, measured window (s)", get(c, "ours", "cpu_s"), get(c, "python", "cpu_s"),
        target=(lambda o, r: r is not None and r >= 10) if scale == run_scale else None)
    row("client CPU, whole process (s)", get(c, "ours", "process_cpu_s"), get(c, "python", "process_cpu_s"))
    row("client max RSS (MiB)", (get(c, "ours", "max_rss_kb") or 0) / 1024, (get(c, "python", "max_rss_kb") or 0) / 1024)
    row("requests to the emulator", get(c, "ours", "requests"), get(c, "python", "requests"))
    row("emulator CPU meanwhile (s)", get(c, "ours", "emulator_cpu_s"), get(c, "python", "emulator_cpu_s"))
    show("Python")
    print()

for burst in ("1", "1000"):
    c = f"stream@burst{burst}"
    print(f"2. streaming {get(c, 'ours', 'tokens')} tokens from bench/tokens, instant emission, {burst} token(s) per "
          f"emulator write burst; received: ours {get(c, 'ours', 'received')} (done {get(c, 'ours', 'done')}), "
          f"JS {get(c, 'js', 'received')} (done {get(c, 'js', 'done')})")
    row("tokens per second", get(c, "ours", "tokens_per_s"), get(c, "js", "tokens_per_s"), better="higher",
        target=lambda o, r: r is not None and r >= 5)
    row("wall time, create to done (s)", get(c, "ours", "wall_s"), get(c, "js", "wall_s"))
    row("time to first token (s)", get(c, "ours", "first_token_s"), get(c, "js", "first_token_s"))
    row("client CPU per token (µs)", get(c, "ours", "cpu_us_per_token"), get(c, "js", "cpu_us_per_token"))
    row("client CPU, measured window (s)", get(c, "ours", "cpu_s"), get(c, "js", "cpu_s"))
    row("client CPU, whole process (s)", get(c, "ours", "process_cpu_s"), get(c, "js", "process_cpu_s"))
    row("client max RSS (MiB)", (get(c, "ours", "max_rss_kb") or 0) / 1024, (get(c, "js", "max_rss_kb") or 0) / 1024)
    row("requests to the emulator", get(c, "ours", "requests"), get(c, "js", "requests"))
    row("emulator CPU meanwhile (s)", get(c, "ours", "emulator_cpu_s"), get(c, "js", "emulator_cpu_s"))
    show("JS")
    print()

c = "poll"
print(f"3. a 10-second prediction (emulator/slow seconds=10, 0.5 s setup, time scale 1), poll only, no stream/webhook; "
      f"status: ours {get(c, 'ours', 'status')}, Python {get(c, 'python', 'status')} (poll interval {get(c, 'python', 'poll_interval_s')} s)")
row("requests (create + GETs)", get(c, "ours", "requests"), get(c, "python", "requests"),
    target=lambda o, r: o is not None and o <= 12)
row("detection latency after completed_at (s)", get(c, "ours", "latency_s"), get(c, "python", "latency_s"),
    target=lambda o, r: o is not None and o <= 1.0)
row("noticed − (create + 10 s) (s)", get(c, "ours", "latency_from_create_plus_duration_s"),
    get(c, "python", "latency_from_create_plus_duration_s"))
row("wall time (s)", get(c, "ours", "wall_s"), get(c, "python", "wall_s"))
show("Python", width=40, cell=10)
print("\nratio: how many times better ours is (official ÷ ours for costs, ours ÷ official for throughput)")
PY
