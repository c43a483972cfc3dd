"""What the relay answered, read: a JSON body, or the RelayError it means (every family).

Volcengine answers `{code, message, data, request_id}` (10000 is success); OpenAI-style
answers (the relay's own errors, and the OpenAI images family) `{error: {message, type,
code}}` or `{data: [...]}`. Our key is cut from anything the relay says before it is kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import httpx

from core.http import cannot_connect
from core.relay_errors import (
    OutputRefused,
    PromptRefused,
    RelayAuthError,
    RelayBadRequest,
    RelayBalanceError,
    RelayBusy,
    RelayCannotConnect,
    RelayError,
    RelayInternal,
    RelayUnreachable,
)
from core.secrets import scrub

SUCCESS = 10000

VOLC_CODES: dict[int, type[RelayError]] = {
    50411: PromptRefused,
    50412: PromptRefused,
    50413: PromptRefused,
    50512: PromptRefused,
    50511: OutputRefused,
    50519: OutputRefused,
    50429: RelayBusy,
    50430: RelayBusy,
    50500: RelayInternal,
    50501: RelayInternal,
    50400: RelayBadRequest,
}

# What OpenAI-style moderation refusals carry in their code or message.
REFUSALS = ("content_policy", "moderation_blocked", "safety system", "safety_violation")


def unreachable(error: Exception) -> RelayUnreachable:
    """No answer (httpx's or aiohttp's error): no connection at all (said at once), or a
    timeout or a dropped one."""
    why = cannot_connect(error)
    if why is not None:
        return RelayCannotConnect(why)
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        return RelayUnreachable(f"timed out ({type(error).__name__})")
    return RelayUnreachable(f"connection failed ({type(error).__name__})")


def _message(raw: object, secrets: tuple[str, ...]) -> str:
    """A relay's error message, without our key in any shape, short enough for a log line."""
    return scrub(str(raw or ""), secrets)[:200]


def echoed(value: Any, secrets: tuple[str, ...]) -> Any:
    """A code or request id as the relay sent it; a text one without our key."""
    return scrub(value, secrets)[:200] if isinstance(value, str) else value


def parse_body(
    status: int, headers: Mapping[str, str], content: bytes, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Turn any relay answer into its JSON body, or raise the matching RelayError."""
    after = retry_after(headers)
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict):
        kind = "an empty answer" if not content.strip() else "a non-JSON answer"
        if status == 401:
            raise RelayAuthError(f"the relay rejected the key ({kind})", status=status)
        if status == 429:
            raise RelayBusy(f"rate limited ({kind})", status=status, retry_after=after)
        raise RelayInternal(f"the relay gave {kind}", status=status)
    if isinstance(body.get("error"), dict | str):
        raise openai_error(body["error"], status, after, secrets)
    code = echoed(body.get("code", body.get("status")), secrets)
    request_id = echoed(body.get("request_id"), secrets)
    if code == SUCCESS or (code is None and status == 200 and "data" in body):
        return body
    message = _message(body.get("message"), secrets)
    if isinstance(code, int) and code in VOLC_CODES:
        raise VOLC_CODES[code](message, code=code, status=status, request_id=request_id)
    if status == 429:
        raise RelayBusy(message, code=code, status=status, retry_after=after)
    if status >= 500 or status == 200:
        raise RelayInternal(message or "unexpected answer", code=code, status=status)
    raise RelayBadRequest(message or "request rejected", code=code, status=status)


def openai_error(
    error: dict[str, Any] | str, status: int, retry_after: float | None, secrets: tuple[str, ...]
) -> RelayError:
    if isinstance(error, str):
        error = {"message": error}
    message = _message(error.get("message"), secrets)
    code = echoed(error.get("code") or error.get("type"), secrets)
    text = f"{message} {code}".lower()
    if status == 401:
        return RelayAuthError(message, code=code, status=status)
    if status == 402 or (
        status == 403 and ("quota" in text or "额度" in text or "balance" in text)
    ):
        return RelayBalanceError(message, code=code, status=status)
    if status == 403:
        return RelayAuthError(message, code=code, status=status)
    if status == 429:
        return RelayBusy(message, code=code, status=status, retry_after=retry_after)
    if status >= 500:
        return RelayInternal(message, code=code, status=status)
    if any(word in text for word in REFUSALS):
        return PromptRefused(message, code=code, status=status)
    return RelayBadRequest(message, code=code, status=status)


def retry_after(headers: Mapping[str, str]) -> float | None:
    value = str(headers.get("retry-after", ""))
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(seconds, 60.0) if math.isfinite(seconds) and seconds >= 0 else None
