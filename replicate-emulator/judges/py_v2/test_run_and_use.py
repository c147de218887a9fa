"""replicate==2.0.0b4: run() and use() (with and without streaming) against the emulator."""

from __future__ import annotations

import os

import replicate
from replicate.exceptions import ModelError
from replicate.lib._predictions_use import URLPath, get_path_url

from conftest import HELLO_WORLD_VERSION, IMAGE_MODEL, PNG_SIGNATURE, STREAM_MODEL


def test_run_hello_world_by_name(client: replicate.Replicate) -> None:
    assert client.run("replicate/hello-world", input={"text": "judge"}) == "hello judge"


def test_run_hello_world_by_version_id(client: replicate.Replicate) -> None:
    out = client.run(f"replicate/hello-world:{HELLO_WORLD_VERSION}", input={"text": "v"})
    assert out == "hello v"


def test_run_without_waiting_polls_to_the_output(client: replicate.Replicate) -> None:
    assert client.run("replicate/hello-world", input={"text": "poll"}, wait=False) == "hello poll"


def read_output_file(item: object, client: replicate.Replicate, origin: str) -> bytes:
    """Bytes of one file output, read through the SDK's FileOutput."""
    if isinstance(item, replicate.FileOutput):
        data = item.read()
        assert b"".join(iter(item)) == data
        return data
    # The SDK wraps only https:/data: strings in FileOutput; an emulator URL is plain http, so the
    # item stays a string. Read it through the SDK's FileOutput (its HTTP client, its headers).
    assert isinstance(item, str) and item.startswith(origin + "/"), item
    data = replicate.FileOutput(item, client).read()
    assert b"".join(iter(replicate.FileOutput(item, client))) == data
    return data


def test_run_image_model_outputs_real_pngs(client: replicate.Replicate, base_url: str) -> None:
    # Prefer: wait (sync mode): files may come back inline as data: URLs, as the service does
    out = client.run(IMAGE_MODEL, input={"prompt": "a judge", "num_outputs": 2})
    assert isinstance(out, list) and len(out) == 2
    for item in out:
        assert read_output_file(item, client, base_url.removesuffix("/v1")).startswith(PNG_SIGNATURE)


def test_run_image_model_polled_outputs_are_served_pngs(client: replicate.Replicate, base_url: str) -> None:
    origin = base_url.removesuffix("/v1")
    out = client.run(IMAGE_MODEL, input={"prompt": "polled", "num_outputs": 2}, wait=False)
    assert isinstance(out, list) and len(out) == 2
    assert all(isinstance(u, str) and u.startswith(origin + "/") for u in out), out
    for item in out:
        assert read_output_file(item, client, origin).startswith(PNG_SIGNATURE)


def test_run_image_model_file_output_from_data_urls(data_url_client: replicate.Replicate) -> None:
    out = data_url_client.run(IMAGE_MODEL, input={"prompt": "inline"})
    assert isinstance(out, list) and len(out) == 1
    (item,) = out
    assert isinstance(item, replicate.FileOutput), type(item)
    assert item.url.startswith("data:image/png;base64,"), item.url[:40]
    assert item.read().startswith(PNG_SIGNATURE)


def test_run_failing_model_raises_model_error(client: replicate.Replicate) -> None:
    try:
        client.run("emulator/fail", input={"message": "boom"})
    except ModelError as e:
        assert e.prediction.status == "failed"
        assert e.prediction.error == "boom"
    else:
        raise AssertionError("expected ModelError")


# `Replicate().use(...)` is broken in 2.0.0b4 (it passes the client instance where the library
# expects the client class: "issubclass() arg 1 must be a class"), so these use the module-level
# `replicate.use`, which builds its client from REPLICATE_API_TOKEN / REPLICATE_BASE_URL.


def test_use_hello_world(client: replicate.Replicate) -> None:
    hello = replicate.use("replicate/hello-world")
    assert hello(text="use") == "hello use"


def test_use_image_model_returns_paths_to_real_pngs(client: replicate.Replicate) -> None:
    flux = replicate.use(IMAGE_MODEL)
    out = flux(prompt="paths")
    assert isinstance(out, list) and len(out) == 1
    path = out[0]
    assert isinstance(path, URLPath)
    assert get_path_url(path)
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    assert os.path.getsize(path) > 8


def test_use_streaming_yields_tokens_that_join_to_the_output(client: replicate.Replicate) -> None:
    model = replicate.use(STREAM_MODEL, streaming=True)
    run = model.create(prompt="stream", max_tokens=12, token_delay=0.1)
    tokens = list(run.output())
    assert len(tokens) == 12, tokens
    assert all(isinstance(t, str) and t for t in tokens)
    final = client.predictions.get(prediction_id=run._prediction.id)
    assert final.status == "succeeded"
    assert "".join(tokens) == "".join(final.output)


def test_use_without_streaming_joins_a_concatenate_iterator(client: replicate.Replicate) -> None:
    model = replicate.use(STREAM_MODEL)
    text = model(prompt="joined", max_tokens=5, token_delay=0)
    assert isinstance(text, str)
    assert text.startswith("Here is a streamed")
    assert len(text.split(" ")) == 5
