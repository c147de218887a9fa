"""replicate==2.0.0b4 against models served by real Cog servers behind the emulator (`--cog`):
cog==0.9.26 (Python server) and cog 0.23 (coglet), with the predictors of
tests/cog-predictors/predict.py. run.sh exports COG_PYTHON_09 / COG_PYTHON_023 (it sources
scripts/setup/replicate-emulator.sh, which installs them into .tools/ when missing)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import replicate
from emulator_process import start_emulator, stop_emulator

PREDICT_PY = Path(__file__).resolve().parents[2] / "tests" / "cog-predictors" / "predict.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python(var: str) -> str:
    path = os.environ.get(var, "")
    assert path and Path(path).is_file(), f"{var} is not set to a Cog venv's python: run scripts/setup/replicate-emulator.sh"
    return path


class CogServer:
    """A Cog server (its own process group) serving one predictor class of predict.py."""

    def __init__(self, generation: str, predictor: str, upload_url: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="judge-cog-"))
        shutil.copy(PREDICT_PY, self.dir / "predict.py")
        (self.dir / "cog.yaml").write_text(f'predict: "predict.py:{predictor}"\n')
        py09 = python("COG_PYTHON_09")
        env = dict(os.environ, PORT=str(free_port()))
        self.url = f"http://127.0.0.1:{env['PORT']}"
        if generation == "0.9":
            py = py09
        else:
            schema = subprocess.run([py09, "-m", "cog.command.openapi_schema"], cwd=self.dir, capture_output=True, check=True)
            (self.dir / ".cog").mkdir()
            (self.dir / ".cog" / "openapi_schema.json").write_bytes(schema.stdout)
            py = python("COG_PYTHON_023")
            env["PATH"] = f"{Path(py).parent}:{env.get('PATH', '')}"
            env["COG_PREDICT_TYPE_STUB"] = f"predict.py:{predictor}"
        self.proc = subprocess.Popen(
            [py, "-m", "cog.server.http", "--host", "127.0.0.1", f"--upload-url={upload_url}"],
            cwd=self.dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health-check", timeout=1).json().get("status") == "READY":
                    return
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Cog {generation} {predictor} never became ready")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module", params=["0.9", "0.23"])
def cog(request: pytest.FixtureRequest) -> Iterator[tuple[replicate.Replicate, str]]:
    """An emulator serving me/tokens (ConcatenateIterator) and me/raises from Cog `request.param`."""
    port = free_port()
    uploads = f"http://127.0.0.1:{port}/_emulator/cog-uploads/"
    servers = [CogServer(request.param, "Tokens", uploads), CogServer(request.param, "Raises", uploads)]
    try:
        proc, url = start_emulator(
            "--cog", f"me/tokens={servers[0].url}", "--cog", f"me/raises={servers[1].url}", port=port
        )
        try:
            yield replicate.Replicate(base_url=url, bearer_token="r8_any", max_retries=0), url
        finally:
            stop_emulator(proc)
    finally:
        for s in servers:
            s.stop()


def test_run_gets_the_tokens_the_predictor_produced(cog: tuple[replicate.Replicate, str]) -> None:
    client, _ = cog
    out = client.run("me/tokens", input={"prompt": "cogs all the way", "delay": 0.05})
    assert "".join(out) == "cogs all the way ", out


def test_stream_yields_tokens_in_order(cog: tuple[replicate.Replicate, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client, url = cog
    monkeypatch.setenv("REPLICATE_BASE_URL", url)  # stream() builds its own client from the environment
    tokens = [str(t) for t in client.stream("me/tokens", input={"prompt": "one two three", "delay": 0.2})]
    assert "".join(tokens) == "one two three ", tokens


def test_a_raise_ends_failed_with_its_message(cog: tuple[replicate.Replicate, str]) -> None:
    client, _ = cog
    with pytest.raises(replicate.exceptions.ModelError) as info:
        client.run("me/raises", input={"message": "predictor says no"})
    assert "predictor says no" in str(info.value)


def test_cancel_ends_canceled(cog: tuple[replicate.Replicate, str]) -> None:
    client, _ = cog
    p = client.models.predictions.create(
        model_owner="me", model_name="tokens", input={"prompt": "slow " * 100, "delay": 0.5}
    )
    canceled = client.predictions.cancel(prediction_id=p.id)
    assert canceled.status == "canceled", canceled
    assert client.predictions.get(prediction_id=p.id).status == "canceled"
