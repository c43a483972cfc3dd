"""Secrets in every shape they can leak in, and one way to cut them out of a text.

A relay, proxy or library that echoes our key rarely echoes it as it is: it may show the
request URL-encoded (`Bearer%20sk-...`, a token's `:` as `%3A`), the header base64-encoded
(Basic auth, a dumped request), or the bytes as hex. `forms` lists every such shape of each
secret; `scrub` replaces any of them in a text. Logs and everything stored go through here.

Base64 of a secret inside a longer base64 string depends on where the secret starts, modulo 3
(each 4 characters carry 3 bytes). For each of the three alignments the characters that carry
only the secret's bytes are the same whatever surrounds it: that stable middle is a form too.
At most two characters at each end stay, and they carry a few bits of the secret, not the
secret.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus

MASK = "***"
# A secret shorter than this would be found in ordinary words; none of ours is.
MIN_SECRET = 4
# The stable middle of an embedded base64 form, shorter than this, would match innocent text.
MIN_FORM = 8


def forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every shape of every secret (raw, URL-encoded, base64, hex), longest first."""
    return _forms(tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET})))


@functools.lru_cache(maxsize=16)
def _forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    found: set[str] = set()
    for secret in secrets:
        found.update(_shapes(secret))
    return tuple(sorted((f for f in found if len(f) >= MIN_SECRET), key=lambda f: (-len(f), f)))


def _shapes(secret: str) -> Iterator[str]:
    yield secret
    for text in (secret, f"Bearer {secret}"):
        for encoded in (quote(text, safe=""), quote(text), quote_plus(text)):
            yield encoded
            yield _lower_escapes(encoded)  # %3a as well as %3A
            yield quote(encoded, safe="")  # encoded twice: %253A
    data = secret.encode()
    for raw in (data, b"Bearer " + data):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            whole = encode(raw).decode()
            yield whole
            yield whole.rstrip("=")
    for skip in range(3):  # the secret starting at each offset modulo 3 of a longer string
        part = data[skip:]
        part = part[: len(part) - len(part) % 3]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            middle = encode(part).decode()
            if len(middle) >= MIN_FORM:
                yield middle
    yield data.hex()
    yield data.hex().upper()


def _lower_escapes(encoded: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)


@functools.lru_cache(maxsize=16)
def _pattern(found: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, found)))


def scrub(text: str, found: tuple[str, ...]) -> str:
    """`text` with every form in `found` (from `forms`) replaced by ***."""
    if not found or not text:
        return text
    return _pattern(found).sub(MASK, text)


def scrub_secrets(text: str, secrets: Iterable[str]) -> str:
    """`scrub(text, forms(secrets))`, for callers holding the secrets themselves."""
    return scrub(text, forms(secrets))
