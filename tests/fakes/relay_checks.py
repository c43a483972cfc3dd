"""What the fake relay accepts: each call's body checked like the real service, "" when valid.

The calls: Volcengine's CVProcess (Jimeng 2.1 and image-to-image models), the asynchronous
pair CVSync2AsyncSubmitTask / CVSync2AsyncGetResult (Jimeng 3.0, 3.1, 4.0), and the OpenAI
image endpoints /v1/images/generations (JSON) and /v1/images/edits (multipart)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from typing import Any


def _json_type(value: Any) -> str:
    """JSON-ish name of a Python value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for kind, name in ((int, "integer"), (float, "number"), (str, "string"), (list, "array")):
        if isinstance(value, kind):
            return name
    return "object"


_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "num": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "bool": ("a boolean", lambda v: isinstance(v, bool)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "strs": (
        "an array of strings",
        lambda v: isinstance(v, list) and bool(v) and all(isinstance(s, str) for s in v),
    ),
}
Limit = tuple[float, float] | frozenset[Any] | None
_FIELDS: dict[str, tuple[str, Limit]] = {
    "model_version": ("str", frozenset({"general_v2.1_L"})),
    "req_schedule_conf": ("str", frozenset({"general_v20_9B_pe", "general_v20_9B_rephraser"})),
    "llm_seed": ("int", None),
    "seed": ("int", None),
    "scale": ("num", (1, 10)),
    "ddim_steps": ("int", (1, 200)),
    "width": ("int", (256, 768)),
    "height": ("int", (256, 768)),
    "use_pre_llm": ("bool", None),
    "use_sr": ("bool", None),
    "return_url": ("bool", None),
    "binary_data_base64": ("strs", None),
}
_SUBMIT_FIELDS: dict[str, tuple[str, Limit]] = {
    "seed": ("int", None),
    "scale": ("num", (0, 10)),
    "width": ("int", (256, 4096)),
    "height": ("int", (256, 4096)),
    "use_pre_llm": ("bool", None),
    "binary_data_base64": ("strs", None),
    "image_urls": ("strs", None),
}
_LOGO_FIELDS: dict[str, tuple[str, Limit]] = {
    "add_logo": ("bool", None),
    "position": ("int", frozenset({0, 1, 2, 3})),
    "language": ("int", frozenset({0, 1})),
    "opacity": ("num", (0, 1)),
    "logo_text_content": ("str", None),
}
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
FORMATS = frozenset({"url", "b64_json"})


def _check_fields(obj: dict[str, Any], spec: dict[str, tuple[str, Limit]], prefix: str) -> str:
    """Return an error naming the first bad field, or "". ``null`` counts as absent."""
    for name, (kind, limit) in spec.items():
        value = obj.get(name)
        if value is None:
            continue
        label, is_ok = _TYPES[kind]
        if not is_ok(value):
            return f"{prefix}{name} must be {label}, got {_json_type(value)}"
        if isinstance(limit, tuple) and not limit[0] <= value <= limit[1]:
            return f"{prefix}{name} must be in [{limit[0]}, {limit[1]}], got {value!r}"
        if isinstance(limit, frozenset) and value not in limit:
            return f"{prefix}{name} must be one of {sorted(limit)}, got {value!r}"
    return ""


def _check_prompt(body: dict[str, Any], key: str, keys: Collection[str]) -> str:
    if body.get(key) not in keys:
        return f"{key} must be one of {sorted(keys)}, got {body.get(key)!r}"
    prompt = body.get("prompt")
    if prompt is None:
        return "prompt is required"
    if not isinstance(prompt, str):
        return f"prompt must be a string, got {_json_type(prompt)}"
    if not prompt.strip():
        return "prompt must not be empty"
    return ""


def _check_logo(logo: Any) -> str:
    if logo is None:
        return ""
    if not isinstance(logo, dict):
        return f"logo_info must be an object, got {_json_type(logo)}"
    return _check_fields(logo, _LOGO_FIELDS, "logo_info.")


def validate_body(body: Any, req_keys: Collection[str]) -> str:
    """A CVProcess JSON body."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if error := _check_prompt(body, "req_key", req_keys):
        return error
    if error := _check_fields(body, _FIELDS, ""):
        return error
    return _check_logo(body.get("logo_info"))


def validate_submit(body: Any, req_keys: Collection[str]) -> str:
    """A CVSync2AsyncSubmitTask JSON body."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if error := _check_prompt(body, "req_key", req_keys):
        return error
    return _check_fields(body, _SUBMIT_FIELDS, "")


def validate_poll(body: Any, req_keys: Collection[str]) -> str:
    """A CVSync2AsyncGetResult JSON body: req_key, task_id, and req_json (a JSON string)."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if body.get("req_key") not in req_keys:
        return f"req_key must be one of {sorted(req_keys)}, got {body.get('req_key')!r}"
    if not isinstance(body.get("task_id"), str) or not body["task_id"]:
        return "task_id must be a non-empty string"
    raw = body.get("req_json")
    if raw is None:
        return ""
    if not isinstance(raw, str):
        return f"req_json must be a JSON string, got {_json_type(raw)}"
    try:
        options = json.loads(raw)
    except ValueError:
        return "req_json is not valid JSON"
    if not isinstance(options, dict):
        return "req_json must encode an object"
    if error := _check_fields(options, {"return_url": ("bool", None)}, "req_json."):
        return error
    return _check_logo(options.get("logo_info"))


def validate_openai(body: Any, models: Collection[str]) -> str:
    """An images/generations JSON body, or the text fields of an images/edits form."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if error := _check_prompt(body, "model", models):
        return error
    n = body.get("n", 1)
    if str(n) != "1":
        return f"n must be 1, got {n!r}"
    size = body.get("size")
    if size is not None and (not isinstance(size, str) or not _SIZE.match(size)):
        return f"size must be like '1024x1024', got {size!r}"
    if body.get("response_format", "url") not in FORMATS:
        return f"response_format must be url or b64_json, got {body.get('response_format')!r}"
    return ""


def size_of(text: Any, default: tuple[int, int] = (1024, 1024)) -> tuple[int, int]:
    match = _SIZE.match(text) if isinstance(text, str) else None
    return (int(match[1]), int(match[2])) if match else default
