"""replicate==1.0.7 beyond streams: run (FileOutput from sync-mode data: URLs), pagination, files,
and ReplicateError fields parsed from our problem+json answers."""

from __future__ import annotations

import io
import os

import pytest
from replicate.client import Client
from replicate.exceptions import ModelError, ReplicateError
from replicate.helpers import FileOutput
from replicate.pagination import paginate

from conftest import ORIGIN

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HELLO_WORLD_VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


def test_run_image_model_file_outputs_hold_pngs(client: Client) -> None:
    out = client.run("black-forest-labs/flux-schnell", input={"prompt": "legacy", "num_outputs": 2})
    assert isinstance(out, list) and len(out) == 2
    for item in out:
        if isinstance(item, FileOutput):  # sync mode: data: URLs
            data = item.read()
        else:  # an emulator URL (plain http, which 1.0.7 leaves as a string)
            assert isinstance(item, str) and item.startswith(ORIGIN + "/"), item
            data = client._client.get(item).content
        assert data.startswith(PNG_SIGNATURE)


def test_run_failing_model_raises_model_error(client: Client) -> None:
    with pytest.raises(ModelError) as info:
        client.run("emulator/fail", input={"message": "legacy failure"})
    assert info.value.prediction.status == "failed"
    assert info.value.prediction.error == "legacy failure"


def test_paginate_predictions(client: Client) -> None:
    created = {
        client.predictions.create(version=HELLO_WORLD_VERSION, input={"text": f"legacy page {i}"}).id
        for i in range(105)
    }
    pages = list(paginate(client.predictions.list))
    assert len(pages) >= 2
    ids = [p.id for page in pages for p in page]
    assert len(ids) == len(set(ids))
    assert created <= set(ids)


def test_files_create_get_list_delete(client: Client) -> None:
    content = b"legacy judge file\n"
    f = client.files.create(io.BytesIO(content), filename="legacy.txt", content_type="text/plain", metadata={"k": "v"})
    assert f.size == len(content) and f.name == "legacy.txt"
    assert f.metadata == {"k": "v"}
    assert client.files.get(f.id).id == f.id
    assert f.id in [x.id for x in client.files.list()]
    assert client.files.delete(f.id) is True
    with pytest.raises(ReplicateError) as info:
        client.files.get(f.id)
    assert info.value.status == 404


def test_errors_carry_problem_details(client: Client) -> None:
    bad = Client(api_token="r8_rejected", base_url=ORIGIN)
    with pytest.raises(ReplicateError) as info:
        bad.models.get("replicate/hello-world")
    assert info.value.status == 401 and info.value.detail and info.value.title
    with pytest.raises(ReplicateError) as info:
        client.models.get("nobody/nothing")
    assert info.value.status == 404
    with pytest.raises(ReplicateError) as info:
        client.run("replicate/hello-world", input={})
    assert info.value.status == 422
    assert os.environ["REPLICATE_BASE_URL"] == ORIGIN


def test_run_with_a_file_input(client: Client) -> None:
    wav = io.BytesIO(b"RIFF$\x00\x00\x00WAVEfmt ")
    out = client.run("soykertje/whisper", input={"audio": wav})
    assert isinstance(out, dict)
    assert isinstance(out.get("transcription"), str) and isinstance(out.get("detected_language"), str)
