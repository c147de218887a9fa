"""The official Python SDK's side of the SDK comparison benchmarks (benches/sdk-comparison.sh).

    python py_bench.py run     2,000 hello-world runs (AsyncReplicate, asyncio.gather, semaphore of 100)
    python py_bench.py poll    a 10-second emulator/slow prediction followed as run(wait=False) does it:
                               create, then predictions.wait (fixed 0.5 s polling; REPLICATE_POLL_INTERVAL unset)

Needs replicate==2.0.0b4, BENCH_BASE_URL (the emulator's /v1 URL) and BENCH_TOKEN. Prints one JSON line.
CPU time is the process's user + system time over the measured window (time.process_time()).
"""

import asyncio
import json
import os
import sys
import time
from datetime import datetime

from replicate import AsyncReplicate


def client() -> AsyncReplicate:
    return AsyncReplicate(bearer_token=os.environ.get("BENCH_TOKEN", "r8_bench"), base_url=os.environ["BENCH_BASE_URL"])


async def bench_run() -> dict:
    runs = int(os.environ.get("BENCH_RUNS", "2000"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "100"))
    c = client()
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> bool:
        async with sem:
            try:
                out = await c.run("replicate/hello-world", input={"text": f"n{i}"})
            except Exception as e:  # noqa: BLE001 - counted as a failed run
                print(f"run {i}: {e!r}", file=sys.stderr)
                return False
            return str(out) == f"hello n{i}"

    cpu0, t0 = time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in range(runs)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await c.close()
    return {"runs": runs, "concurrency": concurrency, "ok": sum(results), "wall_s": wall, "cpu_s": cpu}


async def bench_poll() -> dict:
    seconds = 10.0
    c = client()
    created, t0 = time.time(), time.perf_counter()
    try:
        # What run(..., wait=False) does: create without Prefer: wait, then predictions.wait (GET at once,
        # then every poll_interval). Called directly to keep the prediction (run returns only the output).
        p = await c.models.predictions.create(model_owner="emulator", model_name="slow", input={"seconds": seconds})
        p = await c.predictions.wait(p.id)
    except Exception as e:  # noqa: BLE001
        return {"error": repr(e), "wall_s": time.perf_counter() - t0}
    noticed, wall = time.time(), time.perf_counter() - t0
    await c.close()
    completed = p.completed_at
    if isinstance(completed, str):
        completed = datetime.fromisoformat(completed.replace("Z", "+00:00"))
    latency = noticed - completed.timestamp() if completed is not None else None
    return {
        "status": p.status,
        "wall_s": wall,
        "latency_s": latency,
        "latency_from_create_plus_duration_s": noticed - created - seconds,
        "poll_interval_s": c.poll_interval,
    }


async def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which == "run":
        figures = await bench_run()
    elif which == "poll":
        figures = await bench_poll()
    else:
        figures = {"error": f"unknown benchmark {which!r}"}
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
