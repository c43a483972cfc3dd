"""core.messages: every sentence in both languages, with the same blanks, filled strictly."""

from __future__ import annotations

import string

import pytest

from core import messages
from core.messages import LANGUAGES, TEXTS, MessageError, placeholders

KEYS = sorted(TEXTS)


def sample(name: str) -> object:
    """A value any template's format spec accepts (`{size:.1f}` needs a number)."""
    return 1.5 if name in {"size", "limit", "remaining", "total", "used"} else 7


@pytest.mark.parametrize("key", KEYS)
def test_every_key_has_english_and_chinese(key: str) -> None:
    assert set(TEXTS[key]) == set(LANGUAGES) == {"en", "zh"}
    assert all(TEXTS[key][lang].strip() for lang in LANGUAGES)


@pytest.mark.parametrize("key", KEYS)
def test_both_languages_use_the_same_placeholders(key: str) -> None:
    assert placeholders(TEXTS[key]["en"]) == placeholders(TEXTS[key]["zh"])


@pytest.mark.parametrize("key", KEYS)
def test_templates_are_well_formed_and_named(key: str) -> None:
    for lang in LANGUAGES:
        for _, name, _, _ in string.Formatter().parse(TEXTS[key][lang]):  # raises if malformed
            assert name != "", f"{key} ({lang}) has a positional {{}}"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_fills_with_its_values(key: str, lang: str) -> None:
    names = placeholders(TEXTS[key][lang])
    filled = messages.text(key, lang, **{name: sample(name) for name in names})
    assert "{" not in filled


@pytest.mark.parametrize("key", [k for k in KEYS if placeholders(TEXTS[k]["en"]) - {"usage"}])
def test_a_missing_value_is_an_error_naming_key_and_field(key: str) -> None:
    names = sorted(placeholders(TEXTS[key]["en"]) - {"usage"})
    for left_out in names:
        values = {name: sample(name) for name in names if name != left_out}
        for lang in LANGUAGES:
            with pytest.raises(MessageError) as caught:
                messages.text(key, lang, **values)
            assert repr(key) in str(caught.value) and f"{{{left_out}}}" in str(caught.value)


def test_an_unknown_key_is_an_error() -> None:
    with pytest.raises(MessageError, match="no message 'no_such_message'"):
        messages.text("no_such_message", "en")


def test_a_value_of_the_wrong_kind_is_an_error() -> None:
    with pytest.raises(MessageError, match="'balance'"):
        messages.text("balance", "en", remaining="a lot", total=1, used=1)


def test_usage_is_always_available() -> None:
    assert messages.text("empty_prompt", "en").endswith(TEXTS["usage"]["en"])
    assert messages.text("empty_prompt", "zh").endswith(TEXTS["usage"]["zh"])


def test_an_unknown_language_falls_back_to_english() -> None:
    assert messages.text("cooldown", "fr", seconds=3) == "Please wait 3 s before your next drawing."


def test_extra_values_are_ignored() -> None:
    assert messages.text("admin_done", "en", what="ban", extra=1) == "Done: ban."


@pytest.mark.parametrize(
    ("template", "names"),
    [
        ("plain", set()),
        ("{a} and {a}", {"a"}),
        ("{size:.1f} MB {value!r}", {"size", "value"}),
        ("{{literal}} {x}", {"x"}),
        ("{obj.attr} {seq[0]}", {"obj", "seq"}),
    ],
)
def test_placeholders(template: str, names: set[str]) -> None:
    assert placeholders(template) == names


@pytest.mark.parametrize(
    ("code", "lang"),
    [(None, "zh"), ("", "zh"), ("zh", "zh"), ("zh-hans", "zh"), ("ZH_TW", "zh"), ("en", "en")],
)
def test_language(code: str | None, lang: str) -> None:
    assert messages.language(code) == lang
    assert messages.language("fr") == "en" and messages.language(None, "en") == "en"
