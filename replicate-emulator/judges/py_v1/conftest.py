"""Fixtures for the judge that runs the legacy Python SDK (replicate==1.0.7) against the emulator.

run.sh exports REPLICATE_BASE_URL (`http://127.0.0.1:PORT/v1`) and REPLICATE_API_TOKEN. 1.0.7 wants
the base URL without `/v1` (it puts `/v1/...` in every path), so this sets it to the origin.
"""

from __future__ import annotations

import os
import uuid

import pytest
import replicate
from replicate.client import Client

ORIGIN = os.environ["REPLICATE_BASE_URL"].removesuffix("/").removesuffix("/v1")
os.environ["REPLICATE_BASE_URL"] = ORIGIN  # for the module-level replicate.stream / replicate.run


@pytest.fixture(scope="session")
def client() -> Client:
    return Client(api_token=os.environ["REPLICATE_API_TOKEN"], base_url=ORIGIN)


@pytest.fixture
def nonce() -> str:
    return uuid.uuid4().hex[:12]


def find_by_prompt(client: Client, prompt: str) -> replicate.prediction.Prediction:
    """The newest prediction whose input prompt is `prompt` (prompts carry a nonce)."""
    for p in client.predictions.list().results:
        if (p.input or {}).get("prompt") == prompt:
            return client.predictions.get(p.id)
    raise AssertionError(f"no prediction with prompt {prompt!r} on the first page")
