"""replicate==1.0.7, whose SSE parser is strict (exact `text/event-stream` content type, an `event:`
of output/logs/error/done and an `id:` on every event): its stream() reads our streams to the end."""

from __future__ import annotations

import json
import pytest
import replicate
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.stream import ServerSentEvent

from conftest import find_by_prompt

OUTPUT = ServerSentEvent.EventType.OUTPUT
LOGS = ServerSentEvent.EventType.LOGS
DONE = ServerSentEvent.EventType.DONE


def collect(events) -> list[ServerSentEvent]:
    out = list(events)
    assert out, "the stream ended without any event"
    return out


def test_module_stream_tokens_join_to_the_final_output(client: Client, nonce: str) -> None:
    prompt = f"legacy {nonce}"
    events = collect(
        replicate.stream("emulator/stream-text", input={"prompt": prompt, "max_tokens": 10, "token_delay": 0.1})
    )
    assert events[-1].event == DONE, [e.event for e in events]
    assert json.loads(events[-1].data) == {}, events[-1].data  # `done` carries {} on success
    outputs = [e.data for e in events if e.event == OUTPUT]
    assert len(outputs) == 10
    assert all(e.id for e in events)
    assert any(e.event == LOGS for e in events), "the model logs while it streams"
    final = find_by_prompt(client, prompt)
    assert final.status == "succeeded"
    assert "".join(outputs) == "".join(final.output)
    assert "".join(str(e) for e in events) == "".join(final.output)


def test_client_stream_by_version(client: Client, nonce: str) -> None:
    model = client.models.get("emulator/stream-text")
    prompt = f"by version {nonce}"
    events = collect(
        client.stream(
            f"emulator/stream-text:{model.latest_version.id}",
            input={"prompt": prompt, "max_tokens": 5, "token_delay": 0.05},
        )
    )
    assert events[-1].event == DONE
    final = find_by_prompt(client, prompt)
    assert "".join(e.data for e in events if e.event == OUTPUT) == "".join(final.output)


def test_prediction_stream_after_it_finished_replays_everything(client: Client, nonce: str) -> None:
    model = client.models.get("emulator/stream-text")
    p = client.predictions.create(
        version=model.latest_version.id,
        input={"prompt": f"replay {nonce}", "max_tokens": 6, "token_delay": 0},
        stream=True,
    )
    assert p.urls.get("stream"), p.urls
    p.wait()
    assert p.status == "succeeded"
    events = collect(p.stream())
    assert events[-1].event == DONE
    assert "".join(e.data for e in events if e.event == OUTPUT) == "".join(p.output)


def test_stream_of_a_model_that_does_not_stream_is_refused(client: Client, nonce: str) -> None:
    # urls.stream is present only when the model streams (API-NOTES); 1.0.7 says so in its own words
    with pytest.raises(ReplicateError, match="does not support streaming"):
        collect(client.stream("replicate/hello-world", input={"text": nonce}))


def test_stream_ends_with_done_when_the_prediction_is_canceled(client: Client, nonce: str) -> None:
    model = client.models.get("emulator/stream-text")
    p = client.predictions.create(
        version=model.latest_version.id,
        input={"prompt": f"cancel {nonce}", "max_tokens": 500, "token_delay": 1},
        stream=True,
    )
    events = []
    for event in p.stream():
        events.append(event)
        if sum(e.event == OUTPUT for e in events) == 2:
            client.predictions.cancel(p.id)
    assert events[-1].event == DONE
    assert json.loads(events[-1].data) == {"reason": "canceled"}, events[-1].data
    p.reload()
    assert p.status == "canceled"
    outputs = [e.data for e in events if e.event == OUTPUT]
    assert 2 <= len(outputs) < 500
    assert "".join(outputs) == "".join(p.output or [])


def test_stream_of_file_iterator_outputs_urls_that_serve_pngs(client: Client) -> None:
    events = collect(client.stream("emulator/file-iterator", input={"count": 2, "interval": 0.1}))
    outputs = [e.data for e in events if e.event == OUTPUT]
    assert len(outputs) == 2
    for out in outputs:
        url = out.url if hasattr(out, "url") else out
        data = client._client.get(str(url)).content if str(url).startswith("http") else out.read()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), data[:16]


def test_run_hello_world(client: Client, nonce: str) -> None:
    assert client.run("replicate/hello-world", input={"text": nonce}) == f"hello {nonce}"
