"""Fixtures for the judge that runs the official Python SDK (replicate==2.0.0b4) against the emulator.

run.sh starts the emulator and exports REPLICATE_BASE_URL, REPLICATE_API_TOKEN (the only token that
emulator accepts) and JUDGES_EMULATOR_BIN (to start extra emulators with other flags).
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest
import replicate
from emulator_process import start_emulator, stop_emulator

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HELLO_WORLD_VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
IMAGE_MODEL = "black-forest-labs/flux-schnell"
STREAM_MODEL = "emulator/stream-text"
SLOW_MODEL = "emulator/slow"


@pytest.fixture(scope="session")
def base_url() -> str:
    return os.environ["REPLICATE_BASE_URL"]


@pytest.fixture(scope="session")
def token() -> str:
    return os.environ["REPLICATE_API_TOKEN"]


@pytest.fixture(scope="session")
def client() -> replicate.Replicate:
    """A client that also validates every response against the SDK's own response types."""
    return replicate.Replicate(_strict_response_validation=True, max_retries=0)


@pytest.fixture(scope="session")
def lenient_client() -> replicate.Replicate:
    return replicate.Replicate(max_retries=0)


@pytest.fixture(scope="session")
def data_url_client() -> Iterator[replicate.Replicate]:
    """A client on a second emulator started with --data-urls (outputs inline as data: URLs)."""
    proc, url = start_emulator("--data-urls")
    try:
        yield replicate.Replicate(base_url=url, bearer_token="r8_any", max_retries=0)
    finally:
        stop_emulator(proc)
