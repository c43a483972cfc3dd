"""The relay's error tree. Every failure of a draw becomes one typed error; callers read
`.reason` (the key of the user's sentence in messages.py, and of the statistics) and
`.retryable` (the client has already retried those within its deadline):

    RelayError                       reason          retryable  where it comes from
    ├── PromptRefused                prompt_refused  no         50411 50412 50413 50512
    ├── OutputRefused                output_refused  yes        50511 50519
    ├── RelayBusy                    busy            yes        50429 50430, HTTP 429
    ├── RelayInternal                internal        yes        50500 50501, HTTP 5xx, HTML, empty
    ├── RelayUnreachable             unreachable     yes        timeout, connection dropped
    │   └── RelayCannotConnect       cannot_connect  no         refused, no such host (at once)
    ├── RelayAuthError               bad_key         no         HTTP 401
    ├── RelayBalanceError            no_balance      no         HTTP 403 (out of quota)
    ├── RelayBadRequest              bad_request     no         50400, other 4xx
    ├── RelayNoImage                 no_image        yes        success without any image
    ├── RelayImageError              image           no         image URL unreachable/too large
    └── RelayTaskLost                task_lost       no         async task not_found / expired
"""

from __future__ import annotations

from typing import ClassVar


class RelayError(Exception):
    """A draw the relay did not complete. Never carries the key."""

    reason: ClassVar[str] = "error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        detail: str,
        *,
        code: int | str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [self.reason, self.detail]
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.status is not None:
            parts.append(f"http={self.status}")
        return " ".join(parts)


class PromptRefused(RelayError):
    reason = "prompt_refused"


class OutputRefused(RelayError):
    reason = "output_refused"
    retryable = True


class RelayBusy(RelayError):
    reason = "busy"
    retryable = True


class RelayInternal(RelayError):
    reason = "internal"
    retryable = True


class RelayUnreachable(RelayError):
    reason = "unreachable"
    retryable = True


class RelayCannotConnect(RelayUnreachable):
    """No connection at all: refused, or the host is not found. Said at once, not retried:
    a relay that is down or misnamed stays so for longer than one draw waits."""

    reason = "cannot_connect"
    retryable = False


class RelayAuthError(RelayError):
    reason = "bad_key"


class RelayBalanceError(RelayError):
    reason = "no_balance"


class RelayBadRequest(RelayError):
    reason = "bad_request"


class RelayNoImage(RelayError):
    reason = "no_image"
    retryable = True


class RelayImageError(RelayError):
    reason = "image"


class RelayTaskLost(RelayError):
    """An asynchronous task the relay no longer knows (not_found) or has let expire."""

    reason = "task_lost"
