"""The official Python SDK (replicate==2.0.0b4, AsyncReplicate) on the Rust bench's workload: N predictions
of emulator/slow at once, one asyncio task per prediction, the SDK's own polling (what
`run(..., wait=False)` does: `models.predictions.create`, then `predictions.wait`, a GET every
`poll_interval`). Prints one JSON line: failures, elapsed, peak RSS, detection latency median.

Usage: python python_sdk.py BASE_URL N SECONDS
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


async def main(base_url: str, n: int, seconds: float) -> dict[str, object]:
    import replicate

    client = replicate.AsyncReplicate(bearer_token="r8_bench", base_url=base_url)
    latencies: list[float] = []
    failures = 0

    async def one() -> None:
        nonlocal failures
        try:
            created = await client.models.predictions.create(
                model_owner="emulator", model_name="slow", input={"seconds": seconds}
            )
            prediction = await client.predictions.wait(created.id)
            seen = time.time()
            if prediction.status != "succeeded" or not str(prediction.output).startswith("slept"):
                failures += 1
            done = unix(prediction.completed_at)
            if done is not None:
                latencies.append(seen - done)
        except Exception:  # noqa: BLE001 - counted and reported
            failures += 1

    started = time.time()
    await asyncio.gather(*(one() for _ in range(n)))
    elapsed = time.time() - started
    await client.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "n": n,
        "failures": failures,
        "elapsed_s": round(elapsed, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "latency_median_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "poll_interval_s": client.poll_interval,
    }


if __name__ == "__main__":
    base, count, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(asyncio.run(main(base, count, secs))))
