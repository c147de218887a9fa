"""replicate==2.0.0b4 retries through the emulator's injected faults: 429 (with Retry-After) and
503 answers must be shaped so that the official client's retry logic recovers from them."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest
import replicate
from emulator_process import start_emulator, stop_emulator

from conftest import HELLO_WORLD_VERSION


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[replicate.Replicate, str]]:
    proc, url = start_emulator("--faults", "error_429=0.1,error_503=0.1", "--seed", "7")
    try:
        yield replicate.Replicate(base_url=url, bearer_token="r8_any", max_retries=10), url
    finally:
        stop_emulator(proc)


def test_client_retries_through_injected_429_and_503(faulty: tuple[replicate.Replicate, str]) -> None:
    client, url = faulty
    for i in range(5):
        p = client.predictions.create(version=HELLO_WORLD_VERSION, input={"text": f"faulty {i}"})
        assert client.predictions.wait(p.id).output == f"hello faulty {i}"
    stats = httpx.get(url.removesuffix("/v1") + "/_emulator/stats", headers={"Authorization": "Bearer x"}).json()
    assert stats["faults_injected"] > 0, stats  # the run above really went through faults


def test_429_carries_retry_after_and_problem_json(faulty: tuple[replicate.Replicate, str]) -> None:
    _, url = faulty
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer r8_any"}) as http:
        for _ in range(200):
            r = http.get("/account")
            if r.status_code == 429:
                assert r.headers["content-type"].startswith("application/problem+json")
                retry_after = r.headers.get("retry-after")
                assert retry_after is not None and float(retry_after) >= 0, r.headers
                assert r.json().get("status") == 429
                return
        raise AssertionError("no 429 in 200 requests at p=0.1")


def test_rate_limit_raises_rate_limit_error_with_retry_after() -> None:
    proc, url = start_emulator("--creates-per-minute", "3")
    try:
        client = replicate.Replicate(base_url=url, bearer_token="r8_any", max_retries=0)
        for i in range(3):
            client.predictions.create(version=HELLO_WORLD_VERSION, input={"text": f"limit {i}"})
        with pytest.raises(replicate.RateLimitError) as info:
            client.predictions.create(version=HELLO_WORLD_VERSION, input={"text": "one too many"})
        assert info.value.status_code == 429
        retry_after = info.value.response.headers.get("retry-after")
        assert retry_after is not None and 0 < float(retry_after) <= 60, retry_after
        # reads are budgeted apart from creates
        assert client.predictions.list().results
    finally:
        stop_emulator(proc)
