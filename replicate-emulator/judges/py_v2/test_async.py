"""replicate==2.0.0b4 AsyncReplicate: concurrent runs and async streaming use() against the emulator."""

from __future__ import annotations

import asyncio

import replicate

from conftest import STREAM_MODEL


def test_concurrent_async_runs() -> None:
    async def main() -> list[object]:
        client = replicate.AsyncReplicate(max_retries=0, _strict_response_validation=True)
        try:
            return await asyncio.gather(
                *(client.run("replicate/hello-world", input={"text": f"async {i}"}) for i in range(20))
            )
        finally:
            await client.close()

    assert asyncio.run(main()) == [f"hello async {i}" for i in range(20)]


def test_async_use_streaming() -> None:
    async def main() -> tuple[list[str], list[str]]:
        model = replicate.use(STREAM_MODEL, streaming=True, use_async=True)
        run = await model.create(prompt="async stream", max_tokens=6, token_delay=0.1)
        tokens = [t async for t in await run.output()]
        client = replicate.AsyncReplicate(max_retries=0)
        try:
            final = await client.predictions.get(prediction_id=run._prediction.id)
        finally:
            await client.close()
        return tokens, list(final.output or [])

    tokens, final = asyncio.run(main())
    assert len(tokens) == 6
    assert "".join(tokens) == "".join(final)
