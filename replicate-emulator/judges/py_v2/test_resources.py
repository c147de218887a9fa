"""replicate==2.0.0b4: predictions (list across pages, cancel), files, models and versions."""

from __future__ import annotations

import hashlib
import pytest
import replicate

from conftest import HELLO_WORLD_VERSION, IMAGE_MODEL, SLOW_MODEL

PAGE_SIZE = 100


def test_predictions_list_walks_every_page(client: replicate.Replicate) -> None:
    created = set()
    for i in range(PAGE_SIZE + 5):
        p = client.predictions.create(version=HELLO_WORLD_VERSION, input={"text": f"page {i}"})
        assert p.status in ("starting", "processing", "succeeded")
        created.add(p.id)
    first = client.predictions.list()
    assert len(first.results) == PAGE_SIZE
    assert first.has_next_page()
    seen: list[str] = []
    pages = 0
    for page in first.iter_pages():
        pages += 1
        seen.extend(p.id for p in page.results)
    assert pages >= 2
    assert len(seen) == len(set(seen)), "a prediction appeared on two pages"
    assert created <= set(seen), f"{len(created - set(seen))} created predictions missing from the list"
    # auto-pagination over items gives the same sequence
    assert [p.id for p in client.predictions.list()] == seen


def test_predictions_list_items_are_newest_first(client: replicate.Replicate) -> None:
    a = client.predictions.create(version=HELLO_WORLD_VERSION, input={"text": "a"})
    b = client.predictions.create(version=HELLO_WORLD_VERSION, input={"text": "b"})
    ids = [p.id for p in client.predictions.list().results[:2]]
    assert ids == [b.id, a.id]


def test_cancel_slow_model(client: replicate.Replicate) -> None:
    owner, name = SLOW_MODEL.split("/")
    p = client.models.predictions.create(model_owner=owner, model_name=name, input={"seconds": 600})
    assert p.status in ("starting", "processing")
    canceled = client.predictions.cancel(prediction_id=p.id)
    assert canceled.id == p.id
    final = client.predictions.wait(p.id)
    assert final.status == "canceled"
    assert final.completed_at is not None


def test_cancel_finished_prediction_keeps_its_status(client: replicate.Replicate) -> None:
    out = client.predictions.create(version=HELLO_WORLD_VERSION, input={"text": "done"}, prefer="wait")
    done = client.predictions.wait(out.id)
    assert done.status == "succeeded"
    again = client.predictions.cancel(prediction_id=done.id)
    assert again.status == "succeeded"


def test_files_create_get_list_delete(client: replicate.Replicate) -> None:
    content = b"judge file contents\n" * 10
    created = client.files.create(
        content=("judge.txt", content, "text/plain"), metadata={"purpose": "judge", "n": "3"}
    )
    assert created.size == len(content)
    assert created.content_type.startswith("text/plain")
    assert created.checksums.sha256 == hashlib.sha256(content).hexdigest()
    # the SDK sends metadata as `metadata[key]` form fields, so values arrive as strings
    assert created.metadata == {"purpose": "judge", "n": "3"}
    assert created.urls.get and created.urls.get.endswith(f"/files/{created.id}")
    assert created.expires_at > created.created_at

    got = client.files.get(file_id=created.id)
    assert got.id == created.id and got.size == len(content)
    assert got.checksums.sha256 == created.checksums.sha256

    listed = [f.id for f in client.files.list()]
    assert created.id in listed

    assert client.files.delete(file_id=created.id) is None
    with pytest.raises(replicate.NotFoundError):
        client.files.get(file_id=created.id)
    assert created.id not in [f.id for f in client.files.list()]


def test_models_get_and_versions(client: replicate.Replicate) -> None:
    model = client.models.get(model_owner="replicate", model_name="hello-world")
    assert model.owner == "replicate" and model.name == "hello-world"
    assert model.latest_version is not None
    assert model.latest_version.id == HELLO_WORLD_VERSION
    version = client.models.versions.get(
        model_owner="replicate", model_name="hello-world", version_id=HELLO_WORLD_VERSION
    )
    assert version.id == HELLO_WORLD_VERSION
    assert version.cog_version
    schema = version.openapi_schema
    assert isinstance(schema, dict)
    assert "text" in schema["components"]["schemas"]["Input"]["properties"]
    versions = [v.id for v in client.models.versions.list(model_owner="replicate", model_name="hello-world")]
    assert HELLO_WORLD_VERSION in versions


def test_official_model_has_no_versions_list(client: replicate.Replicate) -> None:
    owner, name = IMAGE_MODEL.split("/")
    model = client.models.get(model_owner=owner, model_name=name)
    assert model.is_official is True
    with pytest.raises(replicate.NotFoundError):
        client.models.versions.list(model_owner=owner, model_name=name)


def test_models_list_contains_the_builtins(client: replicate.Replicate) -> None:
    names = {f"{m.owner}/{m.name}" for m in client.models.list()}
    assert {"replicate/hello-world", IMAGE_MODEL, SLOW_MODEL} <= names


def test_prediction_lifecycle_fields(client: replicate.Replicate, base_url: str) -> None:
    p = client.predictions.create(version=HELLO_WORLD_VERSION, input={"text": "fields"})
    assert p.urls.get == f"{base_url}/predictions/{p.id}"
    assert p.urls.cancel == f"{base_url}/predictions/{p.id}/cancel"
    done = client.predictions.wait(p.id)
    assert done.status == "succeeded"
    assert done.output == "hello fields"
    assert done.started_at is not None and done.completed_at is not None
    assert done.created_at <= done.started_at <= done.completed_at
    assert done.metrics is not None
    assert done.metrics.predict_time is not None and done.metrics.predict_time >= 0


def test_secret_inputs_are_not_stored_in_clear(client: replicate.Replicate) -> None:
    secret = "sk-judge-very-secret"
    out = client.run("emulator/secret-input", input={"api_key": secret, "prompt": "hi"})
    assert out == f"hi: used a secret of {len(secret)} characters"
    stored = client.predictions.list().results[0]
    assert stored.input["prompt"] == "hi"
    assert stored.input["api_key"] != secret
    assert secret not in client.predictions.with_raw_response.get(prediction_id=stored.id).http_response.text
