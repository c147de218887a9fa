"""The official Python SDK (replicate==2.0.0b4, AsyncReplicate) on the Rust bench's workload: N predictions
of emulator/slow at once, one asyncio task per prediction, the SDK's own polling (what
`run(..., wait=False)` does: `models.predictions.create`, then `predictions.wait`, a GET every
`poll_interval`). Prints one JSON line: failures, elapsed, peak RSS, detection latency median.

Usage: python python_sdk.py BASE_URL N SECONDS [LIMIT_SECONDS]

With LIMIT_SECONDS, whatever has not finished by then is cancelled and the line says how far it got
(`created`, `completed`): at 10,000 the SDK's connection pool (100 connections) is the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import sys
import time
from datetime import datetime


def unix(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


async def main(base_url: str, n: int, seconds: float, limit: float | None) -> dict[str, object]:
    import replicate

    client = replicate.AsyncReplicate(bearer_token="r8_bench", base_url=base_url)
    latencies: list[float] = []
    failures = 0
    created_count = 0
    errors: dict[str, int] = {}

    async def one() -> None:
        nonlocal failures, created_count
        try:
            created = await client.models.predictions.create(
                model_owner="emulator", model_name="slow", input={"seconds": seconds}
            )
            created_count += 1
            prediction = await client.predictions.wait(created.id)
            seen = time.time()
            if prediction.status != "succeeded" or not str(prediction.output).startswith("slept"):
                failures += 1
            done = unix(prediction.completed_at)
            if done is not None:
                latencies.append(seen - done)
        except Exception as error:  # noqa: BLE001 - counted and reported
            failures += 1
            name = type(error).__name__
            errors[name] = errors.get(name, 0) + 1

    started = time.time()
    tasks = [asyncio.ensure_future(one()) for _ in range(n)]
    _, pending = await asyncio.wait(tasks, timeout=limit)
    elapsed = time.time() - started
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await client.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "n": n,
        "failures": failures,
        "created": created_count,
        "completed": n - len(pending) - failures,
        "unfinished_at_limit": len(pending),
        "errors": errors,
        "elapsed_s": round(elapsed, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "latency_median_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "poll_interval_s": client.poll_interval,
    }


if __name__ == "__main__":
    base, count, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    time_limit = float(sys.argv[4]) if len(sys.argv) > 4 else None
    print(json.dumps(asyncio.run(main(base, count, secs, time_limit))))
