"""Small predictors for the emulator's --cog tests (tests/cog.rs). Each test serves one class
(cog.yaml `predict: "predict.py:<Class>"`) with cog==0.9.x or the 0.23 coglet."""

import base64
import hashlib
import os
import tempfile
import time

from cog import BasePredictor, ConcatenateIterator, Input, Path

# A 2x1 RGB PNG (its md5 is checked by the tests).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4zwAE/wEHAAH/4iOeWQAAAABJRU5ErkJggg=="
)


class Text(BasePredictor):
    def predict(self, text: str = Input(description="Who to greet")) -> str:
        print(f"greeting {text}")
        return f"hello {text}"


class Tokens(BasePredictor):
    def predict(
        self,
        prompt: str = Input(description="Words to stream back", default="one two three four"),
        delay: float = Input(description="Seconds before each token", default=0.4),
    ) -> ConcatenateIterator[str]:
        for i, word in enumerate(prompt.split()):
            time.sleep(delay)
            print(f"token {i}")
            yield word + " "


class FileOut(BasePredictor):
    def predict(self, name: str = Input(description="File name stem", default="image")) -> Path:
        out = Path(tempfile.mkdtemp()) / f"{name}.png"
        out.write_bytes(PNG)
        return out


class FileIn(BasePredictor):
    def predict(self, file: Path = Input(description="Any file")) -> str:
        data = Path(file).read_bytes()
        return f"{len(data)} bytes, md5 {hashlib.md5(data).hexdigest()}, suffix {Path(file).suffix or '-'}"


class Raises(BasePredictor):
    def predict(self, message: str = Input(description="The error", default="boom")) -> str:
        print("about to raise")
        raise ValueError(message)


class Slow(BasePredictor):
    def predict(self, seconds: float = Input(description="How long", default=60.0)) -> str:
        for i in range(int(seconds * 10)):
            time.sleep(0.1)
            if i % 10 == 0:
                print(f"tick {i // 10} pid {os.getpid()}")
        return "slept"


class SlowSetup(BasePredictor):
    def setup(self) -> None:
        time.sleep(3)

    def predict(self, text: str = Input(description="Anything", default="x")) -> str:
        return f"set up, then {text}"


class BrokenSetup(BasePredictor):
    def setup(self) -> None:
        raise RuntimeError("the weights are missing")

    def predict(self, text: str = Input(description="Anything", default="x")) -> str:
        return "never"
