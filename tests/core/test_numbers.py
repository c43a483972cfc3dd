"""core.numbers: whole and decimal numbers in any script's digits, of any length, safely."""

from __future__ import annotations

import sys
import time
import unicodedata

import pytest

from core.numbers import MAX_DIGITS, digits_of, read_decimal, read_int

# Every decimal digit Unicode knows (category Nd), and numeric characters that are not one.
ALL_DECIMAL_DIGITS = [
    chr(c) for c in range(sys.maxunicode + 1) if unicodedata.decimal(chr(c), None) is not None
]
NOT_DIGITS = [
    "²",
    "³",
    "¹",
    "𐩀",
    "①",
    "⑽",
    "Ⅻ",
    "½",
    "〇",
    "零",
    "五",
    "\u0000",
    "\u200b",
    "\ufeff",
]


def test_every_decimal_digit_of_every_script_reads() -> None:
    assert len(ALL_DECIMAL_DIGITS) > 600
    for char in ALL_DECIMAL_DIGITS:
        value = unicodedata.decimal(char)
        assert digits_of(char) == str(value), repr(char)
        assert read_int(char * 3, 0, 999) == value * 111, repr(char)
        assert read_decimal(f"{char}.{char}", 0, 10) == float(f"{value}.{value}"), repr(char)


@pytest.mark.parametrize("char", NOT_DIGITS)
def test_numeric_characters_that_are_not_decimal_digits(char: str) -> None:
    for text in (char, f"1{char}", f"{char}1", f"1{char}1"):
        assert digits_of(text) is None, repr(text)
        assert read_int(text, 0, 10**9) is None, repr(text)
        assert read_decimal(text, 0, 10**9) is None, repr(text)


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("42", "42"),
        (" 42 ", "42"),
        ("#42", "42"),
        ("＃４２", "42"),
        ("+7", "7"),
        ("007", "7"),
        ("000", "0"),
        ("٤٢", "42"),
        ("４２", "42"),
        ("", None),
        ("   ", None),
        ("-1", None),
        ("4 2", None),
        ("4,2", None),
        ("1e3", None),
        ("0x1f", None),
        ("1_000", None),
        ("nan", None),
    ],
)
def test_digits_of(text: str, digits: str | None) -> None:
    assert digits_of(text) == digits


@pytest.mark.parametrize(
    ("text", "low", "high", "number"),
    [
        ("0", 0, 10, 0),
        ("10", 0, 10, 10),
        ("11", 0, 10, None),
        ("5", 6, 10, None),
        ("2147483647", 0, 2**31 - 1, 2**31 - 1),
        ("2147483648", 0, 2**31 - 1, None),
        ("0" * 100 + "7", 0, 10, 7),  # leading zeros do not count towards the length
    ],
)
def test_read_int(text: str, low: int, high: int, number: int | None) -> None:
    assert read_int(text, low, high) == number


@pytest.mark.parametrize(
    "text",
    [
        "9" * 5000,
        "1" + "0" * 4400,
        "٤" * 5000,
        "9" * (MAX_DIGITS + 1),
        "0" * 5000 + "1",  # too long to read at all, even if the value is small
    ],
)
def test_huge_numbers_are_out_of_range_and_cheap(text: str) -> None:
    started = time.perf_counter()
    for _ in range(100):
        assert read_int(text, 0, 10**100) is None
        assert read_decimal(text, 0, 10**100) is None
        assert read_decimal(f"{text}.5", 0, 10**100) is None
    assert time.perf_counter() - started < 0.5


def test_the_longest_number_read() -> None:
    assert read_int("9" * MAX_DIGITS, 0, 10**MAX_DIGITS) == 10**MAX_DIGITS - 1


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("7.5", 7.5),
        ("7", 7.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("+2.5", 2.5),
        (" 3.25 ", 3.25),
        ("７．５", 7.5),
        ("3。5", 3.5),
        ("٣.٥", 3.5),
        ("10.000", 10.0),
        ("0.30", 0.3),
        (".", None),
        ("", None),
        ("1.2.3", None),
        ("-1", None),
        ("-0.5", None),
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("-inf", None),
        ("infinity", None),
        ("1e999", None),
        ("1e-999", None),
        ("1E1", None),
        ("1_0", None),
        ("0x1", None),
        ("3,5", None),
        ("11", None),
        ("10.0001", None),
    ],
)
def test_read_decimal(text: str, number: float | None) -> None:
    assert read_decimal(text, 0, 10) == number


def test_read_decimal_bounds_are_inclusive() -> None:
    assert read_decimal("1", 1.0, 10.0) == 1.0 and read_decimal("10", 1.0, 10.0) == 10.0
    assert read_decimal("0.999", 1.0, 10.0) is None


def test_odd_strings_never_raise() -> None:
    odd = [*NOT_DIGITS, "\U0010ffff", "\ud800", "\x85", "\u2028", "..", "++1", "#", "＃", "+"]
    for first in odd:
        for second in ["", "1", ".", "٤", *odd]:
            text = first + second
            digits = digits_of(text)
            assert digits is None or digits.isascii()
            read_int(text, 0, 10)
            read_decimal(text, 0, 10)
