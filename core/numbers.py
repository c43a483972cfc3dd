"""Whole numbers as people type them: any script's digits, full-width forms, any length."""

from __future__ import annotations

import unicodedata

# Longer than any number drawbot accepts; reading stops here, so a 5,000-digit string costs
# nothing and never reaches int() (which refuses over 4,300 digits).
MAX_DIGITS = 40


def digits_of(text: str) -> str | None:
    """`text` (trimmed, after an optional '#' or '+') as ASCII digits, or None if it is not a
    whole non-negative number. Any script's decimal digits count ('４２', '٤٢'); other numeric
    characters do not (the superscript '²', the Kharoshthi '𐩀')."""
    text = text.strip().lstrip("#＃+＋").strip()
    if not text or len(text) > MAX_DIGITS * 4:
        return None
    out = []
    for char in text:
        value = unicodedata.decimal(char, None)
        if value is None:
            return None
        out.append(str(value))
    digits = "".join(out).lstrip("0") or "0"
    return digits


def read_int(text: str, low: int, high: int) -> int | None:
    """`text` as a whole number from `low` to `high`, or None (not a number, or out of range)."""
    digits = digits_of(text)
    if digits is None or len(digits) > MAX_DIGITS:
        return None
    number = int(digits)
    return number if low <= number <= high else None
