"""Shape judge: for every recording in api-recordings/*.yaml, the emulator answers the same kind of
request with the same status, media type, field names and JSON types (a recorded null accepts
anything). Fields only the emulator sends are listed, not failed (newer API versions add fields)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from recordings import load
from replay import Replayer
from shape import diff

RECORDINGS = Path(os.environ.get("JUDGES_RECORDINGS", "/work/shared/api-recordings"))
FILES = sorted(RECORDINGS.glob("*.yaml"))


@pytest.fixture(scope="module")
def http():
    with httpx.Client(
        base_url=os.environ["REPLICATE_BASE_URL"],
        headers={"Authorization": f"Bearer {os.environ['REPLICATE_API_TOKEN']}"},
        timeout=30,
    ) as c:
        yield c


def test_recordings_exist() -> None:
    assert FILES, f"no recordings in {RECORDINGS}"


@pytest.mark.parametrize("recording", FILES, ids=[f.name for f in FILES])
def test_recording_shape(recording: Path, http: httpx.Client) -> None:
    replayer = Replayer(http=http, bad_token="r8_rejected_by_the_emulator")
    problems: list[str] = []
    extras: list[str] = []
    for n, ix in enumerate(load(recording), start=1):
        answer = replayer.send(ix)
        where = f"#{n} {answer.request}"
        if answer.status != ix.status:
            problems.append(f"{where}: status {answer.status}, recorded {ix.status}")
        if ix.response is not None and answer.content_type != ix.content_type:
            problems.append(f"{where}: content-type {answer.content_type!r}, recorded {ix.content_type!r}")
        if ix.response is None and ix.status == 204 and answer.body is not None:
            problems.append(f"{where}: a body on a 204")
        p, e = diff(ix.response, answer.body)
        problems += [f"{where}: {x}" for x in p]
        extras += [f"{where}: {x}" for x in e]
    if extras:
        print(f"{recording.name}: fields only the emulator sends:\n  " + "\n  ".join(extras))
    assert not problems, f"{recording.name}:\n  " + "\n  ".join(problems)
