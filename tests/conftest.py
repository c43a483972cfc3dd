"""Shared fixtures: a real fake relay on 127.0.0.1, settings pointing at it, an opened Core.

Settings can be changed per test with the `env` marker, which overrides (or, with None,
removes) environment entries before `settings` is built:

    @pytest.mark.env(DAILY_LIMIT="1", WATERMARK="off")
    async def test_something(core): ...
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import stamina

from bots.event_loop import loop_factory
from core.config import Settings
from core.params import DrawParams, Watermark
from core.records import NewGeneration
from core.root import Core
from tests.fakes.relay import FakeRelay

API_KEY = "sk-test-relay-key-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]

# Three Volcengine models the fake relay can draw (`@pytest.mark.three_models`), each with
# its own req_key: the default, a fixed list of sizes costing 3, a smaller range costing 2.
THREE_MODELS = """
default = "jimeng21"

[[model]]
name = "jimeng21"
api = "volc-sync"
id = "high_aes_general_v21_L"
label = "Jimeng 2.1"

[[model]]
name = "poster"
api = "volc-sync"
id = "poster_req_key_v1"
sizes = "768x512, 512x768"
cost = 3
label = "Poster"

[[model]]
name = "sketch"
api = "volc-sync"
id = "sketch_req_key_v2"
sizes = "256-512"
cost = 2
edits = true
"""
THREE_REQ_KEYS = frozenset({"high_aes_general_v21_L", "poster_req_key_v1", "sketch_req_key_v2"})

# Three models of the three API families (`@pytest.mark.three_families`): Jimeng 2.1 over
# CVProcess (the default, cost 1), Jimeng 3.1 as a task submitted and polled (cost 2), and an
# OpenAI images model with a list of sizes that edits pictures (cost 3).
THREE_FAMILIES = """
default = "jimeng21"

[[model]]
name = "jimeng21"
api = "volc-sync"
id = "high_aes_general_v21_L"
label = "Jimeng 2.1"

[[model]]
name = "jimeng31"
api = "volc-async"
id = "jimeng_t2i_v31"
sizes = "512-2048"
cost = 2
label = "Jimeng 3.1"

[[model]]
name = "gpt"
api = "openai"
id = "gpt-image-1"
sizes = "1024x1024, 1536x1024, 1024x1536"
edits = true
cost = 3
label = "GPT Image"
"""
FAMILY_REQ_KEYS = frozenset({"high_aes_general_v21_L", "jimeng_t2i_v31"})


def child_env(**values: str) -> dict[str, str]:
    """The environment of a `python -m bots` child: only PATH, this checkout and `values`,
    so no setting leaks in from the machine running the tests."""
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    return {**base, "PYTHONIOENCODING": "utf-8", **values}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "env(**values): override environment entries used to build `settings`"
    )
    config.addinivalue_line(
        "markers", "three_models: MODELS_FILE is THREE_MODELS, and the fake relay draws them"
    )
    config.addinivalue_line(
        "markers", "three_families: MODELS_FILE is THREE_FAMILIES, and the fake relay draws them"
    )


@pytest.fixture(autouse=True)
def fast_retries() -> Iterator[None]:
    """Relay retries without pauses (stamina's test mode); `cap` keeps each caller's attempts.
    A test that times real pauses wraps itself in `with stamina.set_testing(False):`."""
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


@pytest.fixture
async def relay() -> AsyncIterator[FakeRelay]:
    """A started fake relay expecting API_KEY."""
    async with FakeRelay(api_key=API_KEY) as fake:
        yield fake
    assert fake.internal_errors == []


@pytest.fixture
def env(request: pytest.FixtureRequest, relay: FakeRelay, tmp_path: Path) -> dict[str, str]:
    """The environment `settings` is loaded from (after any `env` markers are applied)."""
    values = {
        "YUNAPI_BASE_URL": relay.base_url,
        "YUNAPI_API_KEY": API_KEY,
        "DATABASE_PATH": str(tmp_path / "db" / "bot.db"),
        "IMAGE_DIR": str(tmp_path / "images"),
        "DEFAULT_LANGUAGE": "en",
        "RELAY_TIMEOUT": "10",
    }
    if request.node.get_closest_marker("three_models") is not None:
        (tmp_path / "models.toml").write_text(THREE_MODELS, encoding="utf-8")
        values["MODELS_FILE"] = str(tmp_path / "models.toml")
        relay.req_keys = THREE_REQ_KEYS
    if request.node.get_closest_marker("three_families") is not None:
        (tmp_path / "models.toml").write_text(THREE_FAMILIES, encoding="utf-8")
        values["MODELS_FILE"] = str(tmp_path / "models.toml")
        relay.req_keys = set(FAMILY_REQ_KEYS)
    for marker in reversed(list(request.node.iter_markers("env"))):
        for name, value in marker.kwargs.items():
            if value is None:
                values.pop(name, None)
            else:
                values[name] = str(value)
    return values


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return Settings.load(environ=env, env_file=None)


@pytest.fixture
async def core(settings: Settings) -> AsyncIterator[Core]:
    async with Core.open(settings, ["test"]) as opened:
        yield opened


def new_generation(
    user: str = "telegram:1",
    chat: str = "telegram:-100",
    *,
    platform: str | None = None,
    day: str = "2025-03-01",
    source_key: str | None = None,
    prompt: str = "a red fox",
) -> NewGeneration:
    """A reservation request with every parameter filled in; name only what a test needs."""
    return NewGeneration(
        user_key=user,
        chat_key=chat,
        platform=platform or user.partition(":")[0],
        day=day,
        params=DrawParams(prompt, width=768, height=512, seed=42),
        watermark=Watermark(text="drawbot"),
        source_key=source_key,
    )


# A model table with one model that edits pictures (tests/models_edit.toml): pass it as
# `@pytest.mark.env(MODELS_FILE=EDIT_TABLE)`; the fake relay then accepts EDIT_KEY too.
EDIT_TABLE = str(ROOT / "tests" / "models_edit.toml")
EDIT_KEY = "jimeng_i2i_v30"


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The tests run on the event loop the bot runs on (bots/event_loop.py: uvloop's where it
    is installed)."""
    return {"loop": loop_factory()}
