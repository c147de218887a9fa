"""Shape judge: for every recording in api-recordings/*.yaml, the emulator answers the same kind of
request with the same status, media type, field names and JSON types (a recorded null accepts
anything). Fields only the emulator sends are listed, not failed (newer API versions add fields)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from emulator_process import start_emulator, stop_emulator
from recordings import load
from replay import Replayer
from shape import Spec, diff

RECORDINGS = Path(os.environ.get("JUDGES_RECORDINGS", Path(__file__).resolve().parents[3] / "fixtures" / "api-recordings"))
FILES = sorted(RECORDINGS.glob("*.yaml"))
SPEC_FILE = RECORDINGS.parent / "openapi.json"
SPEC = Spec.load(SPEC_FILE)
TOKEN = "r8_shapes_judge"


@pytest.fixture(scope="module")
def http():
    """A client of an emulator of our own, in real time (recorded states are reached reliably)."""
    proc, url = start_emulator("--token", TOKEN, time_scale="1")
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as c:
            yield c
    finally:
        stop_emulator(proc)


def test_spec_exists() -> None:
    # Without it nothing counts as nullable and every null where a recording has a value fails.
    assert SPEC_FILE.is_file(), f"the OpenAPI spec is missing at {SPEC_FILE}"
    assert SPEC.nullable, "the OpenAPI spec declares no nullable property"


def test_recordings_exist() -> None:
    assert FILES, f"no recordings in {RECORDINGS}"


@pytest.mark.parametrize("recording", FILES, ids=[f.name for f in FILES])
def test_recording_shape(recording: Path, http: httpx.Client) -> None:
    replayer = Replayer(http=http, bad_token="r8_rejected_by_the_emulator")
    interactions = load(recording)
    replayer.expect(interactions)
    problems: list[str] = []
    notes: list[str] = []
    extras: list[str] = []
    for n, ix in enumerate(interactions, start=1):
        answer = replayer.send(ix)
        where = f"#{n} {answer.request}"
        if answer.status != ix.status:
            problems.append(f"{where}: status {answer.status}, recorded {ix.status}")
        if ix.response is not None and answer.content_type != ix.content_type:
            problems.append(f"{where}: content-type {answer.content_type!r}, recorded {ix.content_type!r}")
        if ix.response is None and ix.status == 204 and answer.body is not None:
            problems.append(f"{where}: a body on a 204")
        report = diff(ix.response, answer.body, SPEC)
        problems += [f"{where}: {x}" for x in report.problems]
        notes += [f"{where}: {x}" for x in report.notes]
        extras += [f"{where}: {x}" for x in report.extras]
    if notes:
        print(f"{recording.name}: tolerated:\n  " + "\n  ".join(notes))
    if extras:
        print(f"{recording.name}: fields only the emulator sends:\n  " + "\n  ".join(extras))
    assert not problems, f"{recording.name}:\n  " + "\n  ".join(problems)
