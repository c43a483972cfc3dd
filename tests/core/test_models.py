"""The model table (core/models.py): MODELS_FILE loads, and each fault is one start-up line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.config import ConfigError, Settings
from core.models import DEFAULT_TABLE, Family, ModelTableError, load_models, parse_models
from tests.conftest import ROOT
from tests.core.test_config import REQUIRED, run_bots

ONE = {"name": "j", "api": "volc-sync", "id": "req_key"}


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ModelTableError) as caught:
        parse_models(data)
    return caught.value.problems


def test_the_example_table_loads() -> None:
    table = load_models(ROOT / "models.example.toml")
    assert table.names == ["jimeng21", "jimeng31", "seedream"]
    assert table.default.name == "jimeng21"
    jimeng31, seedream = table.models[1], table.models[2]
    assert (jimeng31.family, jimeng31.model_id, jimeng31.cost) == (
        Family.VOLC_ASYNC,
        "jimeng_t2i_v31",
        2,
    )
    assert (jimeng31.min_side, jimeng31.max_side) == (512, 2048)
    assert seedream.family is Family.OPENAI and seedream.edits and seedream.cost == 3
    assert seedream.allows(2560, 1440) and not seedream.allows(1024, 1024)
    assert table.editors == [seedream]


def test_a_minimal_entry_takes_the_defaults() -> None:
    table = parse_models({"model": [ONE]})
    (model,) = table.models
    assert table.default is model and model.cost == 1 and not model.edits
    assert (model.min_side, model.max_side, model.default_size) == (256, 768, (512, 512))
    assert model.shown == "j"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "no [[model]] entries"),
        ({"model": []}, "no [[model]] entries"),
        ({"model": [ONE], "extra": 1}, "unknown top-level keys ['extra']"),
        ({"model": [ONE, ONE]}, "the name 'j' is used twice"),
        ({"model": [ONE | {"name": "J"}, ONE]}, "used twice"),
        ({"model": [ONE], "default": "other"}, "default = 'other' is not one of"),
        ({"model": [ONE | {"name": "has space"}]}, "name must be 1-32 letters"),
        ({"model": [ONE | {"api": "dalle"}]}, "api must be one of volc-sync, volc-async, openai"),
        ({"model": [{"name": "j", "api": "openai"}]}, "id (the req_key or OpenAI model)"),
        ({"model": [ONE | {"cost": -1}]}, "cost must be a whole number from 0 to 1000"),
        ({"model": [ONE | {"cost": 1.5}]}, "cost must be a whole number"),
        ({"model": [ONE | {"cost": True}]}, "cost must be a whole number"),
        ({"model": [ONE | {"edits": "yes"}]}, "edits must be true or false"),
        ({"model": [ONE | {"label": "x" * 41}]}, "label must be text of at most 40"),
        ({"model": [ONE | {"sizes": "768-256"}]}, "sizes must be a range"),
        ({"model": [ONE | {"sizes": "10-20000"}]}, "sides 64 to 8192"),
        ({"model": [ONE | {"sizes": "1024x1024, big"}]}, "sizes must be a range"),
        ({"model": [ONE | {"default_size": "1024x1024"}]}, "default_size must be one of"),
        ({"model": [ONE | {"colour": "red"}]}, "unknown keys ['colour']"),
        ({"model": ["j"]}, "model 1: must be a [[model]] table"),
    ],
)
def test_each_fault_is_named(data: dict[str, Any], expected: str) -> None:
    found = problems(data)
    assert any(expected in problem for problem in found), found


def test_every_fault_of_a_table_at_once() -> None:
    found = problems({"model": [ONE | {"api": "x"}, ONE | {"name": "k", "cost": "two"}]})
    assert len(found) == 2
    assert found[0].startswith("model 1 (j): api") and found[1].startswith("model 2 (k): cost")


def test_unreadable_or_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ModelTableError, match="cannot read"):
        load_models(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[model]\nname = ", encoding="utf-8")
    with pytest.raises(ModelTableError, match="is not valid TOML"):
        load_models(broken)


def test_models_file_in_settings(tmp_path: Path) -> None:
    assert Settings.load(environ=REQUIRED, env_file=None).models == DEFAULT_TABLE
    path = tmp_path / "models.toml"
    path.write_text('[[model]]\nname = "a"\napi = "openai"\nid = "gpt-image-1"\n', "utf-8")
    settings = Settings.load(environ={**REQUIRED, "MODELS_FILE": str(path)}, env_file=None)
    assert settings.models.names == ["a"]
    path.write_text('[[model]]\nname = "a"\napi = "x"\nid = "i"\ncost = -2\n', "utf-8")
    with pytest.raises(ConfigError) as caught:
        Settings.load(environ={**REQUIRED, "MODELS_FILE": str(path)}, env_file=None)
    lines = caught.value.problems
    assert len(lines) == 2 and all(line.startswith("MODELS_FILE: model 1 (a):") for line in lines)


def test_a_faulty_models_file_stops_start_up_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text('default = "nope"\n[[model]]\nname = "a"\napi = "openai"\nid = "i"\n', "utf-8")
    result = run_bots(tmp_path, "console", **REQUIRED, MODELS_FILE=str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("drawbot:") == 1
    assert "MODELS_FILE: default = 'nope' is not one of the models' names" in result.stderr
    missing = run_bots(tmp_path, "console", **REQUIRED, MODELS_FILE=str(tmp_path / "no.toml"))
    assert missing.returncode == 2 and "MODELS_FILE: cannot read" in missing.stderr
