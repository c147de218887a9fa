"""replicate==1.0.7 Webhooks.validate accepts the emulator's signed deliveries; a failed terminal
delivery is retried under the same webhook-id (Standard Webhooks), and nothing follows it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
from replicate.client import Client
from replicate.webhook import InvalidSignatureError, Webhooks

HELLO_WORLD_VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
TERMINAL = {"succeeded", "failed", "canceled", "aborted"}


class Receiver:
    def __init__(self, fail_terminal_times: int = 0) -> None:
        self.deliveries: list[tuple[dict[str, str], str, int]] = []  # headers, body, status answered
        self.fail_terminal_times = fail_terminal_times
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                status = 200
                with receiver.lock:
                    if json.loads(body).get("status") in TERMINAL and receiver.fail_terminal_times > 0:
                        receiver.fail_terminal_times -= 1
                        status = 500
                    receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, check, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if check(list(self.deliveries)):
                    return
            time.sleep(0.02)
        raise AssertionError(f"webhook deliveries never met the condition: {self.deliveries}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def accepted_terminal(ds) -> bool:
    return any(json.loads(b).get("status") in TERMINAL and s == 200 for _, b, s in ds)


def test_validate_accepts_every_delivery(client: Client, receiver: Receiver) -> None:
    secret = client.webhooks.default.secret()
    p = client.predictions.create(
        version=HELLO_WORLD_VERSION,
        input={"text": "legacy webhook"},
        webhook=receiver.url,
        webhook_events_filter=["start", "output", "logs", "completed"],
    )
    receiver.wait_for(accepted_terminal)
    time.sleep(0.3)  # anything still queued would arrive now
    assert len(receiver.deliveries) >= 2
    for headers, body, _ in receiver.deliveries:
        assert json.loads(body)["id"] == p.id
        # 1.0.7 returns None when valid and raises otherwise
        Webhooks.validate(headers=headers, body=body, secret=secret, tolerance=300)
        with pytest.raises(InvalidSignatureError):
            Webhooks.validate(headers=headers, body=body.replace(p.id, p.id[::-1]), secret=secret)
    last = json.loads(receiver.deliveries[-1][1])
    assert last["status"] == "succeeded" and last["output"] == "hello legacy webhook", "terminal delivery is the last"


def test_failed_terminal_delivery_is_retried_with_the_same_id(client: Client) -> None:
    receiver = Receiver(fail_terminal_times=1)
    try:
        secret = client.webhooks.default.secret()
        client.predictions.create(
            version=HELLO_WORLD_VERSION,
            input={"text": "retry"},
            webhook=receiver.url,
            webhook_events_filter=["completed"],
        )
        receiver.wait_for(accepted_terminal)
        terminal = [(h, b, s) for h, b, s in receiver.deliveries if json.loads(b)["status"] in TERMINAL]
        assert [s for _, _, s in terminal] == [500, 200]
        assert terminal[0][0]["webhook-id"] == terminal[1][0]["webhook-id"]
        for h, b, _ in terminal:
            Webhooks.validate(headers=h, body=b, secret=secret, tolerance=300)
    finally:
        receiver.server.shutdown()
