"""replicate==2.0.0b4: the SDK's error classes for 401, 404 and 422 answers."""

from __future__ import annotations

import pytest
import replicate

from conftest import HELLO_WORLD_VERSION


def test_rejected_token_raises_authentication_error() -> None:
    bad = replicate.Replicate(bearer_token="r8_not_the_configured_token", max_retries=0)
    with pytest.raises(replicate.AuthenticationError) as info:
        bad.predictions.create(version=HELLO_WORLD_VERSION, input={"text": "x"})
    assert info.value.status_code == 401
    assert info.value.response.headers["content-type"].startswith("application/problem+json")
    body = info.value.body
    assert isinstance(body, dict) and body.get("status") == 401 and body.get("detail")


def test_unknown_model_raises_not_found(client: replicate.Replicate) -> None:
    with pytest.raises(replicate.NotFoundError) as info:
        client.models.get(model_owner="nobody", model_name="no-such-model")
    assert info.value.status_code == 404


def test_unknown_prediction_raises_not_found(client: replicate.Replicate) -> None:
    with pytest.raises(replicate.NotFoundError):
        client.predictions.get(prediction_id="doesnotexist0000000000000")


def test_run_unknown_model_raises_not_found(client: replicate.Replicate) -> None:
    with pytest.raises(replicate.NotFoundError):
        client.run("nobody/no-such-model", input={})


def test_missing_required_input_raises_unprocessable(client: replicate.Replicate) -> None:
    with pytest.raises(replicate.UnprocessableEntityError) as info:
        client.run("replicate/hello-world", input={})
    assert info.value.status_code == 422
    body = info.value.body
    assert isinstance(body, dict) and body.get("status") == 422
    fields = body.get("invalid_fields")
    assert isinstance(fields, list) and fields, body
    assert any(f.get("field") == "text" or "text" in str(f) for f in fields), fields


def test_wrong_input_type_raises_unprocessable(client: replicate.Replicate) -> None:
    with pytest.raises(replicate.UnprocessableEntityError):
        client.run("emulator/stream-text", input={"prompt": "x", "max_tokens": "many"})


def test_out_of_range_input_raises_unprocessable(client: replicate.Replicate) -> None:
    with pytest.raises(replicate.UnprocessableEntityError):
        client.run("emulator/stream-text", input={"prompt": "x", "max_tokens": 100000})
