"""replicate==2.0.0b4 with strict response validation (every answer must parse as the SDK's own
response type): account, hardware, collections, webhook secret, search, models create/update/
readme/examples, trainings, deployments, deadlines and Prefer: wait."""

from __future__ import annotations

import uuid

import pytest
import replicate

from conftest import HELLO_WORLD_VERSION, SLOW_MODEL

TERMINAL = {"succeeded", "failed", "canceled", "aborted"}


@pytest.fixture(scope="module")
def owner(client: replicate.Replicate) -> str:
    return client.account.get().username


def test_account(client: replicate.Replicate) -> None:
    account = client.account.get()
    assert account.username and account.type in ("user", "organization")


def test_hardware_list(client: replicate.Replicate) -> None:
    skus = [h.sku for h in client.hardware.list()]
    assert "cpu" in skus


def test_collections_list_and_get(client: replicate.Replicate) -> None:
    collections = list(client.collections.list())
    assert collections, "the emulator offers at least one collection"
    first = collections[0]
    got = client.collections.get(collection_slug=first.slug)
    assert got.slug == first.slug and got.name == first.name
    assert isinstance(got.models, list)


def test_webhook_default_secret(client: replicate.Replicate) -> None:
    assert client.webhooks.default.secret.get().key.startswith("whsec_")


def test_search_finds_hello_world(client: replicate.Replicate) -> None:
    found = client.search(query="hello")
    assert any(m.model.owner == "replicate" and m.model.name == "hello-world" for m in found.models), found


def test_model_create_update_readme_examples(client: replicate.Replicate, owner: str) -> None:
    name = f"judge-{uuid.uuid4().hex[:8]}"
    created = client.models.create(owner=owner, name=name, visibility="private", hardware="cpu", description="d1")
    assert created.owner == owner and created.name == name and created.description == "d1"
    assert created.latest_version is None
    updated = client.models.update(model_owner=owner, model_name=name, description="d2", readme="# judge")
    assert updated.description == "d2"
    assert "judge" in client.models.readme.get(model_owner=owner, model_name=name)
    assert list(client.models.examples.list(model_owner="replicate", model_name="hello-world")) is not None
    client.models.delete(model_owner=owner, model_name=name)
    with pytest.raises(replicate.NotFoundError):
        client.models.get(model_owner=owner, model_name=name)


def test_training_adds_a_version_to_its_destination(client: replicate.Replicate, owner: str) -> None:
    name = f"judge-dest-{uuid.uuid4().hex[:8]}"
    client.models.create(owner=owner, name=name, visibility="private", hardware="cpu")
    t = client.trainings.create(
        model_owner="replicate",
        model_name="hello-world",
        version_id=HELLO_WORLD_VERSION,
        destination=f"{owner}/{name}",
        input={"steps": 1},
    )
    assert t.status in ("starting", "processing")
    assert t.id in [x.id for x in client.trainings.list()]
    done = client.trainings.get(training_id=t.id)
    for _ in range(500):
        if done.status in TERMINAL:
            break
        done = client.trainings.get(training_id=t.id)
    assert done.status == "succeeded", done.status
    new_version = getattr(done.output, "version", None)
    assert isinstance(new_version, str) and new_version, done.output
    versions = [v.id for v in client.models.versions.list(model_owner=owner, model_name=name)]
    assert new_version in versions
    # the new version runs, with the base version's schema (output: a string)
    out = client.run(f"{owner}/{name}:{new_version}", input={"text": "trained"})
    assert isinstance(out, str) and out


def test_training_cancel(client: replicate.Replicate, owner: str) -> None:
    name = f"judge-cancel-{uuid.uuid4().hex[:8]}"
    client.models.create(owner=owner, name=name, visibility="private", hardware="cpu")
    t = client.trainings.create(
        model_owner="replicate",
        model_name="hello-world",
        version_id=HELLO_WORLD_VERSION,
        destination=f"{owner}/{name}",
        input={},
    )
    canceled = client.trainings.cancel(training_id=t.id)
    assert canceled.id == t.id
    assert client.trainings.get(training_id=t.id).status in ("canceled", "succeeded")


def test_deployment_lifecycle_and_predictions(client: replicate.Replicate, owner: str) -> None:
    name = f"judge-dep-{uuid.uuid4().hex[:8]}"
    d = client.deployments.create(
        name=name, model="replicate/hello-world", version=HELLO_WORLD_VERSION, hardware="cpu",
        min_instances=0, max_instances=1,
    )
    assert d.owner == owner and d.name == name
    assert d.current_release is not None and d.current_release.number == 1
    assert d.current_release.version == HELLO_WORLD_VERSION
    got = client.deployments.get(deployment_owner=owner, deployment_name=name)
    assert got.current_release is not None and got.current_release.number == 1
    updated = client.deployments.update(deployment_owner=owner, deployment_name=name, max_instances=2)
    assert updated.current_release is not None and updated.current_release.number == 2
    assert name in [x.name for x in client.deployments.list()]
    p = client.deployments.predictions.create(
        deployment_owner=owner, deployment_name=name, input={"text": "deployed"}, prefer="wait"
    )
    assert client.predictions.wait(p.id).output == "hello deployed"
    client.deployments.delete(deployment_owner=owner, deployment_name=name)
    with pytest.raises(replicate.NotFoundError):
        client.deployments.get(deployment_owner=owner, deployment_name=name)


def test_prefer_wait_returns_a_finished_prediction(client: replicate.Replicate) -> None:
    raw = client.predictions.with_raw_response.create(
        version=HELLO_WORLD_VERSION, input={"text": "sync"}, prefer="wait=5"
    )
    assert raw.headers.get("preference-applied") == "wait=5"
    p = raw.parse()
    assert p.status == "succeeded" and p.output == "hello sync"


def test_cancel_after_sets_a_deadline_and_ends_the_prediction(client: replicate.Replicate) -> None:
    owner, name = SLOW_MODEL.split("/")
    p = client.models.predictions.create(
        model_owner=owner, model_name=name, input={"seconds": 600}, cancel_after="5s"
    )
    raw = client.predictions.with_raw_response.get(prediction_id=p.id).http_response.json()
    assert isinstance(raw.get("deadline"), str), raw
    final = client.predictions.wait(p.id)  # 5 s at the judges' time scale
    assert final.status in ("canceled", "aborted")
