"""parse_draw and split_command: what people really type after /draw."""

from __future__ import annotations

from typing import Any

import pytest

from core.command import UsageError, parse_draw, split_command
from core.models import load_models
from core.params import PROMPT_MAX, DrawParams, WatermarkChoice
from tests.conftest import ROOT


def usage_error(text: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse_draw(text)
    return caught.value


# -- sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a red fox --size 768x512",
        "a red fox --size=768x512",
        "a red fox --size 768×512",
        "a red fox --size 768*512",
        "a red fox --size 768X512",
        "a red fox --size ７６８x５１２",
        "a red fox --size ７６８×５１２",
        "a red fox ——size 768x512",
        "a red fox —size 768x512",
        "a red fox –size 768x512",
        "a red fox －－size 768x512",
        "a red fox ——size=768x512",
        "a red fox -s 768x512",
        "a red fox --SIZE 768x512",
        "a red fox --size 768 x 512",
        "a red fox --size 768 ×512",
        "a red fox --size 768x 512",
        "--size 768x512 a red fox",
    ],
)
def test_size_forms(text: str) -> None:
    params = parse_draw(text)
    assert (params.width, params.height) == (768, 512)
    assert params.prompt == "a red fox"


def test_single_number_size_is_square() -> None:
    params = parse_draw("a red fox --size 640")
    assert (params.width, params.height) == (640, 640)


@pytest.mark.parametrize(
    ("text", "size", "prompt"),
    [
        ("a red fox --size 768 x 512 at dusk", (768, 512), "a red fox at dusk"),
        ("a red fox --size 512 2024 poster", (512, 512), "a red fox 2024 poster"),
        ("a red fox --size 768x512 1990s poster", (768, 512), "a red fox 1990s poster"),
        ("a red fox --size 768 512", (768, 512), "a red fox"),
        ("a red fox --size 768 ５１２ at dusk", (768, 512), "a red fox at dusk"),
    ],
)
def test_size_followed_by_prompt_words(text: str, size: tuple[int, int], prompt: str) -> None:
    params = parse_draw(text)
    assert ((params.width, params.height), params.prompt) == (size, prompt)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("a red fox --ar 3:2", (768, 512)),
        ("a red fox --ar 16:9", (768, 432)),
        ("a red fox --ar 2:3", (512, 768)),
        ("a red fox --ar 1:1", (768, 768)),
        ("a red fox --ar 3:1", (768, 256)),
        ("a red fox --ar 9:16", (432, 768)),
        ("a red fox --ar 3：2", (768, 512)),
        ("a red fox --ar=4:3", (768, 576)),
        ("a red fox ——ar 3:2", (768, 512)),
    ],
)
def test_aspect_ratio(text: str, size: tuple[int, int]) -> None:
    params = parse_draw(text)
    assert (params.width, params.height) == size
    assert params.width % 8 == 0 and params.height % 8 == 0
    assert params.prompt == "a red fox"


@pytest.mark.parametrize("ratio", ["5:1", "0:1", "1:0", "1:5", "wide", "3-2"])
def test_bad_ratio(ratio: str) -> None:
    error = usage_error(f"a red fox --ar {ratio}")
    assert error.reason == "bad_ratio"
    assert error.values["value"] == ratio
    assert ratio in error.text("en") and "3:1" in error.text("en")
    assert "画幅比例" in error.text("zh")


@pytest.mark.parametrize("size", ["1024x512", "100x512", "768x255", "769x768", "big", "512x"])
def test_bad_size_names_the_range(size: str) -> None:
    error = usage_error(f"a red fox --size {size}")
    assert error.reason == "bad_size"
    assert (error.values["min"], error.values["max"]) == (256, 768)
    english = error.text("en")
    assert "256–768" in english and size in english
    assert "256–768" in error.text("zh") and "尺寸" in error.text("zh")


# -- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("a red fox --seed 42", "seed", 42),
        ("a red fox --seed 0", "seed", 0),
        ("a red fox --seed 2147483647", "seed", 2147483647),
        ("a red fox --seed=４２", "seed", 42),
        ("a red fox --steps 30", "steps", 30),
        ("a red fox --steps 1", "steps", 1),
        ("a red fox --steps 200", "steps", 200),
        ("a red fox --scale 7.5", "scale", 7.5),
        ("a red fox --scale 1", "scale", 1.0),
        ("a red fox --scale 10", "scale", 10.0),
        ("a red fox --cfg 2.5", "scale", 2.5),
    ],
)
def test_numbers(text: str, field: str, value: Any) -> None:
    params = parse_draw(text)
    assert getattr(params, field) == value
    assert params.prompt == "a red fox"


@pytest.mark.parametrize(
    ("text", "flag", "low", "high"),
    [
        ("a red fox --seed -1", "--seed", 0, 2147483647),
        ("a red fox --seed 2147483648", "--seed", 0, 2147483647),
        ("a red fox --seed abc", "--seed", 0, 2147483647),
        ("a red fox --steps 0", "--steps", 1, 200),
        ("a red fox --steps 201", "--steps", 1, 200),
        ("a red fox --steps 2.5", "--steps", 1, 200),
        ("a red fox --scale 0.5", "--scale", 1, 10),
        ("a red fox --scale 11", "--scale", 1, 10),
        ("a red fox --scale nan", "--scale", 1, 10),
        ("a red fox --scale inf", "--scale", 1, 10),
        ("a red fox --scale high", "--scale", 1, 10),
    ],
)
def test_out_of_range_numbers_name_the_range(text: str, flag: str, low: int, high: int) -> None:
    error = usage_error(text)
    assert error.reason == "bad_number"
    assert error.values["flag"] == flag
    assert (error.values["min"], error.values["max"]) == (low, high)
    bad = text.rsplit(" ", 1)[1]
    english = error.text("en")
    assert english.startswith(f"{flag} must be from {error.values['min']} to")
    assert str(error.values["max"]) in english and bad in english
    chinese = error.text("zh")
    assert flag in chinese and "之间" in chinese and str(error.values["max"]) in chinese


# -- switches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expand", "super_res"),
    [
        ("a red fox", True, True),
        ("a red fox --no-expand", False, True),
        ("a red fox --no-expand --expand", True, True),
        ("a red fox --no-sr", True, False),
        ("a red fox --no-sr --sr", True, True),
        ("a red fox --no-expand --no-sr", False, False),
        ("a red fox ——no-sr", True, False),
    ],
)
def test_expand_and_super_resolution(text: str, expand: bool, super_res: bool) -> None:
    params = parse_draw(text)
    assert (params.expand, params.super_res) == (expand, super_res)
    assert params.prompt == "a red fox"


# -- watermark --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("a red fox", WatermarkChoice()),
        ("a red fox --watermark TEXT", WatermarkChoice(enabled=True, text="TEXT")),
        ('a red fox --watermark "two words"', WatermarkChoice(enabled=True, text="two words")),
        ("a red fox --watermark “两个 词”", WatermarkChoice(enabled=True, text="两个 词")),
        ('a red fox --watermark="two words"', WatermarkChoice(enabled=True, text="two words")),
        ("a red fox --watermark", WatermarkChoice(enabled=True)),
        ("a red fox --watermark --no-sr", WatermarkChoice(enabled=True)),
        ("a red fox --no-watermark", WatermarkChoice(enabled=False)),
        ("a red fox --no-wm", WatermarkChoice(enabled=False)),
        ("a red fox --wm-pos tl", WatermarkChoice(position=2)),
        ("a red fox --wm-pos top-right", WatermarkChoice(position=3)),
        ("a red fox --wm-opacity 0.5", WatermarkChoice(opacity=0.5)),
    ],
)
def test_watermark(text: str, choice: WatermarkChoice) -> None:
    params = parse_draw(text)
    assert params.watermark == choice
    assert params.prompt == "a red fox"


def test_watermark_alone_before_a_flag_keeps_that_flag() -> None:
    params = parse_draw("a red fox --watermark --no-sr")
    assert params.super_res is False


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("a red fox --wm-pos middle", "bad_position"),
        ('a red fox --watermark ""', "bad_watermark"),
        ("a red fox --watermark " + "x" * 51, "bad_watermark"),
        ("a red fox --wm-opacity 2", "bad_number"),
    ],
)
def test_bad_watermark_values(text: str, key: str) -> None:
    assert usage_error(text).reason == key


# -- prompts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        'a cat\'s "hat"',
        "don't stop believing",
        "“一只猫”在月光下",
        "一只猫——在月光下",
        "一只猫—在月光下",
        "「古风」少女，‘水墨’",
        "a cat — in the moonlight",
        "a well-known cat - sitting",
        "a cat -- sitting",
        "100% cotton, 3:2 poster, 768x512 pixels",
    ],
)
def test_prompt_text_is_kept(prompt: str) -> None:
    assert parse_draw(prompt).prompt == prompt


def test_chinese_prompt_with_dashes_and_a_real_flag() -> None:
    params = parse_draw("一只猫——在月光下 ——size 768x512 ——seed 7")
    assert params.prompt == "一只猫——在月光下"
    assert (params.width, params.height, params.seed) == (768, 512, 7)


def test_quotes_in_prompt_with_flags() -> None:
    params = parse_draw('a cat\'s "hat" --seed 3 --watermark "my bot"')
    assert params.prompt == 'a cat\'s "hat"'
    assert params.seed == 3 and params.watermark.text == "my bot"


def test_flags_anywhere_in_the_prompt() -> None:
    params = parse_draw("--seed 5 a cat --steps 10 in a hat --no-sr wearing boots")
    assert params.prompt == "a cat in a hat wearing boots"
    assert (params.seed, params.steps, params.super_res) == (5, 10, False)


def test_defaults_when_no_flags() -> None:
    params = parse_draw("  a red fox  ")
    assert params == DrawParams(prompt="a red fox")
    assert params.seed is None


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "suggestion"),
    [("--sise", "--size"), ("--seeed", "--seed"), ("--step", None), ("--scael", "--scale")],
)
def test_unknown_flag_suggests(flag: str, suggestion: str | None) -> None:
    if suggestion is None:  # "--step" is an alias, so it is known
        assert parse_draw(f"a red fox {flag} 10").steps == 10
        return
    error = usage_error(f"a red fox {flag} 768x512")
    assert error.reason == "unknown_flag"
    assert error.values == {"flag": flag, "suggestion": suggestion}
    assert f"Did you mean {suggestion}?" in error.text("en")
    assert flag in error.text("en")
    assert suggestion in error.text("zh") and "未知选项" in error.text("zh")


def test_unknown_flag_without_suggestion() -> None:
    error = usage_error("a red fox --zzzzqq 1")
    assert error.reason == "unknown_flag" and error.values["suggestion"] is None
    english = error.text("en")
    assert "--zzzzqq" in english and "Did you mean" not in english


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("a red fox --size", "--size"),
        ("a red fox --seed", "--seed"),
        ("a red fox --steps --no-sr", "--steps"),
        ("a red fox --ar", "--ar"),
        ("a red fox --wm-pos", "--wm-pos"),
    ],
)
def test_missing_value(text: str, flag: str) -> None:
    error = usage_error(text)
    assert error.reason == "missing_value" and error.values["flag"] == flag
    assert flag in error.text("en") and flag in error.text("zh")


@pytest.mark.parametrize(
    "text", ["a red fox --size 768x512 --ar 3:2", "--ar 3:2 a red fox --size=512x512"]
)
def test_size_and_ratio_conflict(text: str) -> None:
    error = usage_error(text)
    assert error.reason == "size_conflict"
    assert "--size" in error.text("en") and "--ar" in error.text("en")


@pytest.mark.parametrize(
    "text", ["", "   ", "--size 768x512", "--seed 1 --no-sr", '--watermark "my bot"']
)
def test_empty_prompt(text: str) -> None:
    error = usage_error(text)
    assert error.reason == "empty_prompt"
    assert error.text("en").startswith("Tell me what to draw.")
    assert "Usage: /draw" in error.text("en")
    assert error.text("zh").startswith("请告诉我要画什么")


def test_too_long_prompt() -> None:
    assert parse_draw("x" * PROMPT_MAX).prompt == "x" * PROMPT_MAX
    error = usage_error("x" * (PROMPT_MAX + 1) + " --seed 1")
    assert error.reason == "prompt_too_long"
    assert error.values == {"max": PROMPT_MAX, "length": PROMPT_MAX + 1}
    assert str(PROMPT_MAX) in error.text("en") and str(PROMPT_MAX + 1) in error.text("en")


def test_usage_error_str_names_the_key() -> None:
    assert str(usage_error("a red fox --steps 0")).startswith("bad_number ")


# -- split_command ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/draw a cat", ("draw", "a cat")),
        ("/draw@drawbot_test_bot a cat", ("draw", "a cat")),
        ("/draw@DrawBot_Test_Bot a cat", ("draw", "a cat")),
        ("/DRAW a cat", ("draw", "a cat")),
        ("/Draw@drawbot_test_bot", ("draw", "")),
        ("/draw", ("draw", "")),
        ("/draw\na cat\n--seed 1", ("draw", "a cat\n--seed 1")),
        ("  /quota  ", ("quota", "")),
        ("／draw 一只猫", ("draw", "一只猫")),
        ("/draw@other_bot a cat", None),
        ("a cat", None),
        ("hello /draw a cat", None),
        ("", None),
        ("/", None),
        ("/drawing-cats", ("drawing", "-cats")),
        ("/draw一只猫", ("draw", "一只猫")),
        ("/draw，一只猫 --size 768x512", ("draw", "一只猫 --size 768x512")),
        ("/draw:a cat", ("draw", "a cat")),
        ("/draw@drawbot_test_bot一只猫", ("draw", "一只猫")),
        ("/draw@other_bot一只猫", None),
    ],
)
def test_split_command(text: str, expected: tuple[str, str] | None) -> None:
    assert split_command(text, "drawbot_test_bot") == expected


def test_split_command_without_bot_name_accepts_any_target() -> None:
    assert split_command("/draw@other_bot a cat") == ("draw", "a cat")


# -- odd numbers: every one is a usage error naming the range, never an exception --------

ODD_DIGITS = ["²", "³", "¹", "𐩀", "①", "Ⅻ", "½", "\u0000", "\u200b", "\ufeff", "٫", "e", "_"]
SCRIPT_DIGITS = ["４", "٤", "۴", "४", "৪", "๔", "𝟒", "᠔"]  # '4' in full-width and other scripts
HUGE = "9" * 5000  # over the 4,300 digits int() accepts


@pytest.mark.parametrize("digit", SCRIPT_DIGITS)
def test_any_scripts_digits_are_numbers(digit: str) -> None:
    params = parse_draw(f"a red fox --seed {digit}2 --steps {digit}0 --scale {digit}.5")
    assert (params.seed, params.steps, params.scale) == (42, 40, 4.5)
    params = parse_draw(f"a red fox --size 5{digit}0x{digit}{digit}8 --wm-opacity 0.{digit}")
    assert (params.width, params.height, params.watermark.opacity) == (540, 448, 0.4)


@pytest.mark.parametrize(
    ("flag", "key", "low", "high"),
    [
        ("--size", "bad_size", 256, 768),
        ("--seed", "bad_number", 0, 2147483647),
        ("--steps", "bad_number", 1, 200),
        ("--scale", "bad_number", 1, 10),
        ("--wm-opacity", "bad_number", 0, 1),
    ],
)
def test_odd_numbers_get_the_usage_error_naming_the_range(
    flag: str, key: str, low: int, high: int
) -> None:
    values = [
        *ODD_DIGITS,
        *(f"5{odd}2" for odd in ODD_DIGITS),
        *(f"{odd}512" for odd in ODD_DIGITS),
        HUGE,
        "1" + "0" * 4400,
        "0" * 5000 + "5",
        "٤" * 5000,
        "nan",
        "inf",
        "-inf",
        "1e999",
        "1e-999",
        "-0",
        "0x10",
        "1_000",
        "١٠٠٠٠٠٠٠٠٠٠",  # 10,000,000,000 in Arabic-Indic digits
        "5" * 5000 + ".5",
        "0." + "5" * 5000,
        "1.5.5",
        ".",
        "-5",
        "9999999999999999999999999999",
        f"{HUGE}x512",
        f"512x{HUGE}",
        "512x5" + "\u0000",
        "𐩀x𐩀",
        "²x²",
    ]
    for value in values:
        with pytest.raises(UsageError) as caught:
            parse_draw(f"a red fox {flag} {value}")
        error = caught.value
        assert error.reason == key, value
        assert (error.values["min"], error.values["max"]) == (low, high)
        for lang in ("en", "zh"):
            shown = error.text(lang)
            assert f"{error.values['min']}" in shown and f"{error.values['max']}" in shown
            assert len(shown) < 400  # a 5,000-digit value is not echoed in full


@pytest.mark.parametrize(
    "text",
    [
        "a red fox --size ４２０x５１２",
        "a red fox --size ４２０×５１２",
        "a red fox --size ４２０ｘ５１２",
        "a red fox --size ٤٢٠x٥١٢",
        "a red fox --size 420 x ５１２",
    ],
)
def test_full_width_and_other_script_sizes(text: str) -> None:
    params = parse_draw(text)
    assert (params.width, params.height, params.prompt) == (420, 512, "a red fox")


def test_size_tail_out_of_range_is_a_size_error_not_prompt_words() -> None:
    assert usage_error(f"a red fox --size 768 x {HUGE}").reason == "bad_size"
    assert parse_draw("a red fox --size 512 9999 cats").prompt == "a red fox 9999 cats"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a red fox --scale ７．５", 7.5),
        ("a red fox --scale .5e1", None),
        ("a red fox --scale 3。5", 3.5),
        ("a red fox --scale +2", 2.0),
        ("a red fox --scale 10.000", 10.0),
    ],
)
def test_scale_forms(text: str, value: float | None) -> None:
    if value is None:
        assert usage_error(text).reason == "bad_number"
    else:
        assert parse_draw(text).scale == value


# -- invisible prompts ------------------------------------------------------------------

INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c",
    "\u200d",
    "\u200e",  # left-to-right mark
    "\u200f",
    *(chr(c) for c in range(0x202A, 0x202F)),  # bidi embeddings and overrides
    *(chr(c) for c in range(0x2066, 0x206A)),  # bidi isolates
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u00ad",  # soft hyphen
    "\u0000",
    "\u0007",
    "\u001b",
    "\u007f",
    "\u0085",
    "\u00a0",  # no-break space
    "\u3000",  # ideographic space
    "\u2028",
    "\u2029",
    "\u3164",  # Hangul filler
    "\u2800",  # braille blank
]


@pytest.mark.parametrize("char", INVISIBLE)
def test_invisible_prompts_are_empty(char: str) -> None:
    for text in (char, char * 3, f"{char} {char}", f"{char} --size 768x512 {char}{char}"):
        error = usage_error(text)
        assert error.reason == "empty_prompt", repr(text)
        assert error.text("en").startswith("Tell me what to draw.")


def test_a_prompt_of_every_invisible_character_at_once_is_empty() -> None:
    assert usage_error("".join(INVISIBLE) + " --seed 1").reason == "empty_prompt"


@pytest.mark.parametrize(
    ("text", "prompt"),
    [
        ("\u200ba red fox\u200b", "\u200ba red fox\u200b"),  # format marks in real text stay
        ("a\u0000 red\u001b fox\u0007", "a red fox"),  # control characters go
        ("\ufeffa red fox", "a red fox"),
        ("\u202eolleh", "\u202eolleh"),
        ("👨\u200d👩\u200d👧 family portrait", "👨\u200d👩\u200d👧 family portrait"),
        ("\u0000 a red fox \u0000", "a red fox"),
    ],
)
def test_real_text_with_invisible_characters_stays(text: str, prompt: str) -> None:
    assert parse_draw(text).prompt == prompt


@pytest.mark.parametrize("mark", ["\u200b", "\u202e\u2066", "\u0000", "\u3164"])
def test_invisible_watermark_text_is_refused(mark: str) -> None:
    assert usage_error(f'a red fox --watermark "{mark}"').reason == "bad_watermark"


@pytest.mark.parametrize(
    "text",
    [
        "a red fox --ar " + "5" * 5000 + ":1",
        "a red fox --wm-pos " + "x" * 5000,
        "a red fox --" + "x" * 5000,
        "a red fox --size " + "x" * 5000,
    ],
)
def test_long_bad_values_are_not_echoed_in_full(text: str) -> None:
    error = usage_error(text)
    assert len(error.text("en")) < 400 and len(error.text("zh")) < 400


# -- models (MODELS_FILE) -----------------------------------------------------------------

EXAMPLE = load_models(ROOT / "models.example.toml")  # jimeng21, jimeng31 (512-2048), seedream


def model_error(text: str, chat_model: str | None = None) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse_draw(text, EXAMPLE, chat_model)
    return caught.value


@pytest.mark.parametrize(
    ("text", "model", "size"),
    [
        ("a red fox", "jimeng21", (512, 512)),
        ("a red fox --model jimeng31", "jimeng31", (1328, 1328)),  # the model's default size
        ("a red fox --model JIMENG31 --size 2048x1024", "jimeng31", (2048, 1024)),
        # the order does not matter: the size is judged once the model is known
        ("a red fox --size 2048x1024 --model jimeng31", "jimeng31", (2048, 1024)),
        ("a red fox -m seedream --size 2560x1440", "seedream", (2560, 1440)),
        ("a red fox --model=Seedream", "seedream", (2048, 2048)),
        ("a red fox ——模型 jimeng31 --ar 2:1", "jimeng31", (2048, 1024)),
        ("a red fox --ar 16:9 --model seedream", "seedream", (2560, 1440)),  # nearest listed
        ("a red fox --model jimeng31 --size 1024 1024 poster", "jimeng31", (1024, 1024)),
    ],
)
def test_model_and_its_sizes(text: str, model: str, size: tuple[int, int]) -> None:
    params = parse_draw(text, EXAMPLE)
    assert (params.model, (params.width, params.height)) == (model, size)
    assert params.prompt in ("a red fox", "a red fox poster")


def test_the_chats_default_model_unless_named_or_gone() -> None:
    assert parse_draw("a fox", EXAMPLE, "jimeng31").model == "jimeng31"
    assert parse_draw("a fox", EXAMPLE, "JIMENG31").size == "1328x1328"
    assert parse_draw("a fox --model jimeng21", EXAMPLE, "jimeng31").model == "jimeng21"
    # a chat default no longer in the table: the deployment's default
    assert parse_draw("a fox", EXAMPLE, "retired").model == "jimeng21"
    # without MODELS_FILE: Jimeng 2.1, as before models existed
    assert parse_draw("a fox").model == "jimeng21"


def test_a_size_is_judged_against_the_chosen_model() -> None:
    error = model_error("a fox --size 2048x1024")  # the default, jimeng21, stops at 768
    assert error.reason == "bad_size_model"
    english = error.text("en")
    assert "jimeng21" in english and "256–768" in english and "2048x1024" in english
    assert "jimeng21" in error.text("zh") and "尺寸" in error.text("zh")
    # the chat's default decides too
    assert parse_draw("a fox --size 2048x1024", EXAMPLE, "jimeng31").size == "2048x1024"
    error = model_error("a fox --size 4096 --model jimeng31")
    assert (error.values["min"], error.values["max"]) == (512, 2048)


def test_a_model_with_a_list_names_its_sizes() -> None:
    error = model_error("a fox --model seedream --size 1024x1024")
    assert error.reason == "bad_size_list"
    for lang in ("en", "zh"):
        shown = error.text(lang)
        assert "seedream" in shown and "2304x1728" in shown and "1024x1024" in shown


def test_a_ratio_that_does_not_fit_the_model_names_it() -> None:
    assert parse_draw("a fox --ar 3:1", EXAMPLE).size == "768x256"
    error = model_error("a fox --ar 5:1 --model jimeng31")
    assert error.reason == "bad_ratio_model" and "jimeng31" in error.text("en")


@pytest.mark.parametrize(("name", "suggestion"), [("jimeng3", "jimeng31"), ("zzz", None)])
def test_unknown_model_lists_the_models(name: str, suggestion: str | None) -> None:
    error = model_error(f"a fox --model {name}")
    assert error.reason == "unknown_model" and error.values["suggestion"] == suggestion
    for lang in ("en", "zh"):
        shown = error.text(lang)
        assert name in shown and "jimeng21, jimeng31, seedream" in shown and "/models" in shown
        assert (f"{suggestion}?" in shown) if suggestion else ("?" not in shown)
    assert model_error("a fox --model").reason == "missing_value"


def test_options_in_another_script_are_ours_or_prompt_text() -> None:
    assert parse_draw("一只猫 ——尺寸 768x512").size == "768x512"
    assert parse_draw("一只猫 ——在月光下").prompt == "一只猫 ——在月光下"
    assert parse_draw("一只猫 --在月光下 --seed 3").prompt == "一只猫 --在月光下"
