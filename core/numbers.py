"""Numbers as people type them: any script's digits, full-width forms, any length."""

from __future__ import annotations

import unicodedata

# Longer than any number drawbot accepts; reading stops here, so a 5,000-digit string costs
# nothing and never reaches int() (which refuses over 4,300 digits).
MAX_DIGITS = 40


def digits_of(text: str) -> str | None:
    """`text` (trimmed, after an optional '#' or '+') as ASCII digits, or None if it is not a
    whole non-negative number. Any script's decimal digits count ('４２', '٤٢'); other numeric
    characters do not (the superscript '²', the Kharoshthi '𐩀')."""
    digits = _ascii_digits(text.strip().lstrip("#＃+＋").strip())
    return None if digits is None else digits.lstrip("0") or "0"


def _ascii_digits(text: str) -> str | None:
    """Decimal digits of any script as ASCII digits; None if empty, too long or not all digits."""
    if not text or len(text) > MAX_DIGITS * 4:
        return None
    out = []
    for char in text:
        value = unicodedata.decimal(char, None)
        if value is None:
            return None
        out.append(str(value))
    return "".join(out)


def read_int(text: str, low: int, high: int) -> int | None:
    """`text` as a whole number from `low` to `high`, or None (not a number, or out of range)."""
    digits = digits_of(text)
    if digits is None or len(digits) > MAX_DIGITS:
        return None
    number = int(digits)
    return number if low <= number <= high else None


_POINTS = ".．。"  # a decimal point, also as the full-width and the Chinese full stop


def read_decimal(text: str, low: float, high: float) -> float | None:
    """`text` as a plain decimal number ('7.5', '.5', '７．５') from `low` to `high`, or None.
    No sign, exponent, 'nan', 'inf' or '_'; the digits may be any script's, as in read_int."""
    text = text.strip().lstrip("+＋").strip()
    for point in _POINTS[1:]:
        text = text.replace(point, ".")
    whole, _, fraction = text.partition(".")
    if not whole and not fraction:
        return None
    whole_digits = _ascii_digits(whole) if whole else "0"
    fraction_digits = _ascii_digits(fraction) if fraction else "0"
    if whole_digits is None or fraction_digits is None:
        return None
    whole_digits = whole_digits.lstrip("0") or "0"
    if len(whole_digits) > MAX_DIGITS:
        return None
    number = float(f"{whole_digits}.{fraction_digits}")
    return number if low <= number <= high else None
