"""replicate==2.0.0b4 with a model loaded from a real Cog schema (soykertje/whisper: a required
`audio` file input, an object output): file inputs are uploaded through the emulator's files API
(or sent inline as data: URLs) and the output fits the schema."""

from __future__ import annotations

import io

import pytest
import replicate

WHISPER = "soykertje/whisper"
WAV = b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"


def latest(client: replicate.Replicate) -> replicate.types.Prediction:
    return client.predictions.list().results[0]


def test_file_input_is_uploaded_and_the_object_output_fits_the_schema(client: replicate.Replicate, base_url: str) -> None:
    out = client.run(WHISPER, input={"audio": io.BytesIO(WAV)})
    assert isinstance(out, dict), out
    assert isinstance(out.get("detected_language"), str)
    assert isinstance(out.get("transcription"), str)
    sent = latest(client).input
    assert isinstance(sent, dict) and str(sent["audio"]).startswith(f"{base_url}/files/"), sent
    file_id = str(sent["audio"]).removeprefix(f"{base_url}/files/")
    assert client.files.get(file_id=file_id).size == len(WAV)


def test_file_input_as_base64_data_url(client: replicate.Replicate) -> None:
    out = client.run(WHISPER, input={"audio": io.BytesIO(WAV)}, file_encoding_strategy="base64")
    assert isinstance(out, dict) and isinstance(out.get("transcription"), str)
    assert str(latest(client).input["audio"]).startswith("data:")


def test_missing_file_input_is_unprocessable(client: replicate.Replicate) -> None:
    with pytest.raises(replicate.UnprocessableEntityError) as info:
        client.run(WHISPER, input={"language": "en"})
    assert "audio" in str(info.value.body)


def test_bad_enum_choice_is_unprocessable(client: replicate.Replicate) -> None:
    with pytest.raises(replicate.UnprocessableEntityError):
        client.run(WHISPER, input={"audio": "https://example.com/a.wav", "model": "tiny"})


# ---- the built-in models that take files (issue 14): the SDK's file-input paths end to end

IMAGE_INFO = "emulator/image-info"
SPEECH_TO_TEXT = "emulator/speech-to-text"


def png(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes((x + y) % 256 for x in range(width)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_image_input_uploaded_is_fetched_by_the_model(client: replicate.Replicate, base_url: str) -> None:
    import hashlib

    image = png(30, 12)
    out = client.run(IMAGE_INFO, input={"image": io.BytesIO(image)})
    assert isinstance(out, dict), out
    assert (out["width"], out["height"], out["format"]) == (30, 12, "png"), out
    assert out["md5"] == hashlib.md5(image).hexdigest()
    assert str(latest(client).input["image"]).startswith(f"{base_url}/files/")


def test_image_input_as_base64_data_url(client: replicate.Replicate) -> None:
    out = client.run(IMAGE_INFO, input={"image": io.BytesIO(png(7, 9))}, file_encoding_strategy="base64")
    assert isinstance(out, dict) and (out["width"], out["height"]) == (7, 9), out


def test_audio_input_gives_text(client: replicate.Replicate) -> None:
    out = client.run(SPEECH_TO_TEXT, input={"audio": io.BytesIO(WAV)})
    assert isinstance(out, str) and "WAV" in out, out


def test_an_input_that_is_not_an_image_fails_the_prediction(client: replicate.Replicate) -> None:
    with pytest.raises(replicate.exceptions.ModelError) as info:
        client.run(IMAGE_INFO, input={"image": io.BytesIO(b"not an image")})
    assert "not a PNG" in str(info.value)


def test_search_sends_a_json_string_and_finds_by_words(client: replicate.Replicate) -> None:
    found = [f"{m.owner}/{m.name}" for m in client.models.search(body="hello")]
    assert "replicate/hello-world" in found, found
    found = [f"{m.owner}/{m.name}" for m in client.models.search(body="image generation")]
    assert found and found[0] == IMAGE_INFO, found


def test_models_list_their_examples(client: replicate.Replicate) -> None:
    examples = list(client.models.examples.list(model_owner="replicate", model_name="hello-world"))
    assert examples and examples[0].output == "hello world", examples
    model = client.models.get(model_owner="emulator", model_name="image-info")
    example = model.default_example  # the SDK leaves it an untyped dict
    assert isinstance(example, dict) and example["status"] == "succeeded", example
    assert example["output"]["width"] == 48, example
