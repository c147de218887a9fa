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
