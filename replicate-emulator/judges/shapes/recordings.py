"""Reading the api-recordings cassettes (two formats: httpx-vcr `content`/`status_code` and vcrpy
`body.string`/`status.code`, bodies possibly gzipped) into plain interactions."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

API_ORIGIN = "https://api.replicate.com"


@dataclass
class Interaction:
    """One recorded request and its response."""

    method: str
    path: str  # e.g. /v1/models/stability-ai/sdxl
    headers: dict[str, str]  # request headers, lower-case names, first value
    body: Any  # request JSON (dict) or raw text (multipart) or None
    status: int
    content_type: str  # response media type without parameters
    response: Any  # response JSON, or None when the body is empty / not JSON


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        try:
            raw = gzip.decompress(raw)
        except OSError:
            pass
        return raw.decode("utf-8", "replace")
    return str(raw)


def _first(headers: dict[str, Any]) -> dict[str, str]:
    out = {}
    for k, v in (headers or {}).items():
        out[k.lower()] = v[0] if isinstance(v, list) and v else str(v)
    return out


def _json(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def load(path: Path) -> list[Interaction]:
    """Every interaction of one cassette, in order."""
    doc = yaml.safe_load(path.read_text())
    out = []
    for it in doc.get("interactions", []):
        rq, rs = it["request"], it["response"]
        if "content" in rs:
            body_text, status = _text(rs["content"]), int(rs.get("status_code") or 200)
        else:
            body_text = _text((rs.get("body") or {}).get("string"))
            status = int((rs.get("status") or {}).get("code") or 200)
        req_body_text = _text(rq.get("body"))
        req_headers = _first(rq.get("headers") or {})
        resp_headers = _first(rs.get("headers") or {})
        out.append(
            Interaction(
                method=rq["method"].upper(),
                path=urlsplit(rq["uri"]).path,
                headers=req_headers,
                body=_json(req_body_text) if "json" in req_headers.get("content-type", "json") else req_body_text,
                status=status,
                content_type=resp_headers.get("content-type", "").split(";")[0].strip().lower(),
                response=_json(body_text),
            )
        )
    return out
