"""Comparing JSON shapes: the field names and JSON types of a response against a recorded one."""

from __future__ import annotations

from typing import Any

# Values whose contents depend on the model (its inputs, outputs, schema) or on the user
# (file metadata): only their own JSON type is compared, not what is inside.
OPAQUE_FIELDS = {"input", "output", "openapi_schema", "metadata", "default_example"}


def json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def merge(samples: list[Any]) -> Any:
    """One representative of a recorded array's items: objects merged key by key, non-null wins."""
    non_null = [s for s in samples if s is not None]
    if not non_null:
        return None
    if all(isinstance(s, dict) for s in non_null):
        keys: dict[str, list[Any]] = {}
        for s in non_null:
            for k, v in s.items():
                keys.setdefault(k, []).append(v)
        return {k: merge(vs) for k, vs in keys.items()}
    return non_null[0]


def diff(recorded: Any, actual: Any, path: str = "$") -> tuple[list[str], list[str]]:
    """(differences, extra fields) of `actual` against `recorded`.

    A recorded null accepts any value; a recorded value wants the same JSON type (null included).
    Fields the recording has and the response lacks are differences; fields only the response has
    are reported separately (newer API versions add fields).
    """
    problems: list[str] = []
    extras: list[str] = []
    if recorded is None:
        return problems, extras
    rt, at = json_type(recorded), json_type(actual)
    if rt != at:
        problems.append(f"{path}: {at} where the recording has {rt}")
        return problems, extras
    if path.rsplit(".", 1)[-1] in OPAQUE_FIELDS:
        return problems, extras
    if rt == "object":
        for k, rv in recorded.items():
            if k not in actual:
                problems.append(f"{path}.{k}: missing (recording has {json_type(rv)})")
            else:
                p, e = diff(rv, actual[k], f"{path}.{k}")
                problems += p
                extras += e
        extras += [f"{path}.{k}" for k in actual if k not in recorded]
    elif rt == "array" and recorded:
        rep = merge(recorded)
        seen_p: set[str] = set()
        seen_e: set[str] = set()
        for item in actual:
            p, e = diff(rep, item, f"{path}[]")
            seen_p.update(p)
            seen_e.update(e)
        problems += sorted(seen_p)
        extras += sorted(seen_e)
    return problems, extras
