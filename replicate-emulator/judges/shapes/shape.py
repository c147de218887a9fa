"""Comparing JSON shapes: the field names and JSON types of a response against a recorded one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
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
    """One representative of a recorded array's items. Objects merge key by key; a key that is
    absent or null in some item becomes null (accepting anything), as the items disagree on it."""
    if not samples or any(s is None for s in samples):
        return None
    if all(isinstance(s, dict) for s in samples):
        keys = {k for s in samples for k in s}
        return {k: merge([s[k] for s in samples]) if all(k in s for s in samples) else None for k in keys}
    return samples[0]


@dataclass
class Spec:
    """What the OpenAPI spec says about response properties, by property name."""

    nullable: set[str] = field(default_factory=set)  # declared `nullable: true`
    required: set[str] = field(default_factory=set)  # in some response schema's `required`

    @staticmethod
    def load(path: Path) -> "Spec":
        spec = Spec()
        if not path.is_file():
            return spec
        schemas = json.loads(path.read_text()).get("components", {}).get("schemas", {})
        for name, schema in schemas.items():
            if not name.endswith("_response"):
                continue
            for prop, sub in (schema.get("properties") or {}).items():
                if isinstance(sub, dict) and sub.get("nullable"):
                    spec.nullable.add(prop)
            spec.required.update(schema.get("required") or [])
        return spec


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)  # failures
    notes: list[str] = field(default_factory=list)  # tolerated differences, listed
    extras: list[str] = field(default_factory=list)  # fields only the response has


def diff(recorded: Any, actual: Any, spec: Spec, path: str = "$", report: Report | None = None) -> Report:
    """Differences of `actual` against `recorded`.

    A recorded null accepts any value, and the field's absence unless the spec requires it.
    A recorded value wants the same JSON type; null instead is accepted only where the spec
    declares the property nullable. Missing fields fail; fields only the response has are
    listed apart (newer API versions add fields).
    """
    report = report if report is not None else Report()
    if recorded is None:
        return report
    rt, at = json_type(recorded), json_type(actual)
    name = path.rsplit(".", 1)[-1]
    if at == "null" and name in spec.nullable:
        report.notes.append(f"{path}: null (nullable in the spec) where the recording has {rt}")
        return report
    if rt != at:
        report.problems.append(f"{path}: {at} where the recording has {rt}")
        return report
    if name in OPAQUE_FIELDS:
        return report
    if rt == "object":
        for k, rv in recorded.items():
            if k in actual:
                diff(rv, actual[k], spec, f"{path}.{k}", report)
            elif rv is None and k not in spec.required:
                report.notes.append(f"{path}.{k}: absent where the recording has null")
            else:
                report.problems.append(f"{path}.{k}: missing (recording has {json_type(rv)})")
        report.extras += [f"{path}.{k}" for k in actual if k not in recorded]
    elif rt == "array" and recorded:
        rep = merge(recorded)
        items = Report()
        for item in actual:
            diff(rep, item, spec, f"{path}[]", items)
        for mine, theirs in ((report.problems, items.problems), (report.notes, items.notes), (report.extras, items.extras)):
            mine += sorted(set(theirs))
    return report
