"""Making, against the emulator, the same kind of request as each recorded interaction.

Recorded models do not exist on the emulator, so each is mapped to a built-in model of the same
kind; recorded ids (predictions, trainings, files) are mapped to the ids the emulator handed out
for the corresponding earlier request, or to a fresh object of the same kind.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from recordings import Interaction

# recorded model -> built-in model of the same kind, and inputs valid for it
MODEL_MAP = {
    "stability-ai/sdxl": "emulator/file-iterator",  # versioned, outputs a list of image URLs
    "meta/llama-2-70b-chat": "emulator/stream-text",
    "meta/meta-llama-3-8b-instruct": "emulator/stream-text",
    "replicate/hello-world": "replicate/hello-world",
}
INPUTS = {
    "emulator/file-iterator": {"count": 2, "interval": 0.2},
    "emulator/stream-text": {"prompt": "write a haiku about llamas", "max_tokens": 4, "token_delay": 0.05},
    "replicate/hello-world": {"text": "shapes"},
}
# inputs for predictions the recording goes on to cancel (still running when the cancel comes)
LONG_INPUTS = {
    "emulator/file-iterator": {"count": 20, "interval": 30},
    "emulator/stream-text": {"prompt": "a long answer", "max_tokens": 500, "token_delay": 5},
    "replicate/hello-world": {"text": "shapes"},
}
# recorded version ids -> recorded model
VERSION_MODELS = {
    "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b": "stability-ai/sdxl",
    "02e509c789964a7ea8736978a43525956ef40397be9033abf9fd2badfe68c9e3": "meta/llama-2-70b-chat",
    "73001d654114dad81ec65da3b834e2f691af1e1526453189b7bf36fb3f32d0f9": "replicate/hello-world",
}
TERMINAL = {"succeeded", "failed", "canceled", "aborted"}
ORDER = {"starting": 0, "processing": 1}


@dataclass
class Answer:
    status: int
    content_type: str
    body: Any
    request: str  # "METHOD /path" as sent to the emulator


@dataclass
class Replayer:
    http: httpx.Client  # base_url = emulator .../v1, authorized
    bad_token: str
    canceled: set[str] = field(default_factory=set)  # recorded ids the recording cancels later
    ids: dict[str, str] = field(default_factory=dict)  # recorded id -> emulator id
    _versions: dict[str, str] = field(default_factory=dict)
    _owner: str | None = None
    _empty_model: str | None = None

    # ------------------------------------------------------------------ helpers

    def owner(self) -> str:
        if self._owner is None:
            self._owner = self.http.get("/account").raise_for_status().json()["username"]
        return self._owner

    def empty_model(self) -> str:
        """A model of ours without versions (created once)."""
        if self._empty_model is None:
            name = f"shapes-empty-{uuid.uuid4().hex[:8]}"
            body = {"owner": self.owner(), "name": name, "visibility": "public", "hardware": "cpu"}
            self.http.post("/models", json=body).raise_for_status()
            self._empty_model = f"{self.owner()}/{name}"
        return self._empty_model

    def model(self, recorded: str) -> str:
        if recorded in MODEL_MAP:
            return MODEL_MAP[recorded]
        return self.empty_model()  # e.g. mattt/empty: a model without versions

    def latest_version(self, model: str) -> str:
        if model not in self._versions:
            m = self.http.get(f"/models/{model}").raise_for_status().json()
            self._versions[model] = m["latest_version"]["id"]
        return self._versions[model]

    def version_for(self, recorded_version: str) -> tuple[str, str]:
        """(emulator model, its version id) for a recorded version id."""
        model = self.model(VERSION_MODELS.get(recorded_version, "replicate/hello-world"))
        return model, self.latest_version(model)

    def fresh(self, kind: str, recorded: Any) -> str:
        """A new prediction or training standing in for a recorded one we never saw created."""
        if kind == "trainings":
            return self.new_training()
        model = self.model(str((recorded or {}).get("model") or "replicate/hello-world"))
        inputs = self.inputs(model, str((recorded or {}).get("id")))
        p = self.http.post(f"/models/{model}/predictions", json={"input": inputs}).raise_for_status().json()
        return p["id"]

    def inputs(self, model: str, recorded_id: str | None) -> dict[str, Any]:
        return (LONG_INPUTS if recorded_id in self.canceled else INPUTS)[model]

    def new_training(self) -> str:
        model, version = self.version_for(next(iter(VERSION_MODELS)))
        body = {"destination": self.empty_model(), "input": {"steps": 1}}
        t = self.http.post(f"/models/{model}/versions/{version}/trainings", json=body)
        return t.raise_for_status().json()["id"]

    def map_id(self, kind: str, recorded_id: str, recorded_body: Any) -> str:
        if recorded_id not in self.ids:
            self.ids[recorded_id] = self.fresh(kind, recorded_body)
        return self.ids[recorded_id]

    def settle(self, path: str, want: str | None) -> None:
        """Waits (briefly) until the object at `path` reached the recorded status."""
        if not want:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = self.http.get(path).json().get("status")
            if got == want or got in TERMINAL or ORDER.get(got, 9) > ORDER.get(want, 9):
                return
            time.sleep(0.02)

    def expect(self, interactions: list[Interaction]) -> None:
        """Looks ahead: which recorded predictions/trainings get canceled."""
        for ix in interactions:
            if m := re.fullmatch(r"/v1/(?:predictions|trainings)/([^/]+)/cancel", ix.path):
                self.canceled.add(m[1])

    # ------------------------------------------------------------------ one interaction

    def send(self, ix: Interaction) -> Answer:
        method, path = ix.method, ix.path.removeprefix("/v1")
        headers: dict[str, str] = {}
        if "prefer" in ix.headers:
            headers["Prefer"] = ix.headers["prefer"]
        if ix.status == 401:
            headers["Authorization"] = f"Bearer {self.bad_token}"
        recorded = ix.response if isinstance(ix.response, dict) else {}
        kwargs: dict[str, Any] = {}

        if m := re.fullmatch(r"/files", path):
            if method == "POST":
                kwargs["files"] = {"content": ("shapes.txt", b"recorded shape\n", "text/plain")}
                kwargs["data"] = {"metadata": '{"judge": "shapes"}'}
        elif m := re.fullmatch(r"/files/([^/]+)", path):
            path = f"/files/{self.ids.get(m[1], m[1])}"
        elif path == "/models" and method == "POST":
            body = dict(ix.body or {})
            body.update(owner=self.owner(), name=f"shapes-{uuid.uuid4().hex[:8]}")
            kwargs["json"] = body
        elif m := re.fullmatch(r"/models/([^/]+/[^/]+)", path):
            path = f"/models/{self.model(m[1])}"
        elif m := re.fullmatch(r"/models/([^/]+/[^/]+)/versions/([^/]+)", path):
            model, version = self.version_for(m[2])
            path = f"/models/{model}/versions/{version}"
        elif m := re.fullmatch(r"/models/([^/]+/[^/]+)/predictions", path):
            model = self.model(m[1])
            path = f"/models/{model}/predictions"
            kwargs["json"] = {**(ix.body or {}), "input": self.inputs(model, recorded.get("id"))}
        elif path == "/predictions" and method == "POST":
            body = dict(ix.body or {})
            model, version = self.version_for(str(body.get("version", "")))
            body.update(version=version, input=self.inputs(model, recorded.get("id")))
            kwargs["json"] = body
        elif m := re.fullmatch(r"/(predictions|trainings)/([^/]+)(/cancel)?", path):
            kind, rid, cancel = m[1], m[2], m[3] or ""
            path = f"/{kind}/{self.map_id(kind, rid, recorded)}{cancel}"
            if method == "GET":
                self.settle(path, recorded.get("status"))
            elif cancel and recorded.get("started_at"):
                # the recorded cancel hit a running prediction: cancel ours once it runs too
                self.settle(path.removesuffix("/cancel"), "processing")
        elif m := re.fullmatch(r"/models/([^/]+/[^/]+)/versions/([^/]+)/trainings", path):
            model, version = self.version_for(m[2])
            path = f"/models/{model}/versions/{version}/trainings"
            body = dict(ix.body or {})
            if body.get("destination") != "<invalid>":
                body["destination"] = self.empty_model()
            kwargs["json"] = body

        r = self.http.request(method, path, headers=headers, **kwargs)
        ctype = r.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            body = r.json() if r.content else None
        except ValueError:
            body = None
        # remember which of our objects stands for the recorded one
        if isinstance(body, dict) and isinstance(recorded.get("id"), str) and isinstance(body.get("id"), str):
            self.ids.setdefault(recorded["id"], body["id"])
        return Answer(r.status_code, ctype, body, f"{method} /v1{path}")
