"""Starting extra emulator processes (other flags than the one run.sh started) from Python judges."""

from __future__ import annotations

import os
import subprocess
import time

import httpx


def start_emulator(*flags: str, time_scale: str | None = None, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    """Starts the emulator binary run.sh built (JUDGES_EMULATOR_BIN) on `port` (0: a free one)
    with extra flags; returns the process and its base URL once it answers."""
    binary = os.environ["JUDGES_EMULATOR_BIN"]
    scale = time_scale or os.environ.get("JUDGES_TIME_SCALE", "0.1")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--time-scale", scale, *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not (line.startswith("http://") and line.endswith("/v1")):
        proc.kill()
        raise RuntimeError(f"the emulator printed {line!r} instead of its base URL")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            httpx.get(line + "/account", headers={"Authorization": "Bearer r8_probe"}, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return proc, line


def stop_emulator(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
