"""The Discord command surface: slash commands and their options, as text for core.

Declarations only. `install` builds the commands around the object that answers them: each
callback writes what was asked as the command core reads (`/draw <prompt> --size 768x512`,
`/redo 5`, `/ban discord:7 spam`) and hands it over; core decides what it means.

Where they can be used: `/draw` and the user's own commands can be installed by a server or by
a person (a user install), and used in servers, in a DM with the bot and in other DMs and group
DMs (private channels). `/admin` is a server install only, in servers and the bot's DM.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Protocol

import discord
from discord import app_commands
from discord.app_commands import Choice, Range
from discord.app_commands import locale_str as L

from core.models import DEFAULT_TABLE, ModelTable
from core.params import SCALE_MAX, SCALE_MIN, SEED_MAX, STEPS_MAX, STEPS_MIN

SIZES = {
    "512x512": "1:1",
    "768x768": "1:1",
    "768x512": "3:2",
    "512x768": "2:3",
    "768x432": "16:9",
    "432x768": "9:16",
    "768x576": "4:3",
    "576x768": "3:4",
}

Interaction = discord.Interaction[Any]
SlashCommand = app_commands.Command[Any, Any, None]


def anyone_anywhere(command: SlashCommand) -> SlashCommand:
    """Discord's integration_types [0, 1] and contexts [0, 1, 2]: installable by a server or a
    person, usable in servers, the bot's DM and private channels (DMs, group DMs)."""
    command.allowed_installs = app_commands.AppInstallationType(guild=True, user=True)
    command.allowed_contexts = app_commands.AppCommandContext(
        guild=True, dm_channel=True, private_channel=True
    )
    return command


class Answers(Protocol):
    """What the commands hand their text to (DiscordHandlers)."""

    async def command(
        self, interaction: Interaction, text: str, image: discord.Attachment | None = None
    ) -> None: ...


def quoted(text: str) -> str:
    """`text` as one value for parse_draw, in quotes it does not contain."""
    for opening, closing in (('"', '"'), ("“", "”"), ("「", "」"), ("『", "』"), ("'", "'")):
        if closing not in text:
            return f"{opening}{text}{closing}"
    return '"' + text.replace('"', "'") + '"'


def draw_text(
    prompt: str,
    *,
    size: str | None = None,
    seed: int | None = None,
    steps: int | None = None,
    scale: float | None = None,
    expand: bool | None = None,
    super_res: bool | None = None,
    watermark: str | None = None,
    no_watermark: bool | None = None,
    model: str | None = None,
) -> str:
    """The options as the `--flags` parse_draw reads; they follow (and so win over) the prompt's."""
    parts = [prompt]
    if model:
        parts += ["--model", model]
    if size:
        parts += ["--size", size.strip()]
    if seed is not None:
        parts += ["--seed", str(seed)]
    if steps is not None:
        parts += ["--steps", str(steps)]
    if scale is not None:
        parts += ["--scale", f"{scale:g}"]
    if expand is not None:
        parts.append("--expand" if expand else "--no-expand")
    if super_res is not None:
        parts.append("--sr" if super_res else "--no-sr")
    if watermark:
        parts += ["--watermark", quoted(watermark)]
    if no_watermark:
        parts.append("--no-watermark")
    return " ".join(parts)


def command_text(name: str, *args: str) -> str:
    """`/name arg ...`, each argument one word for core's admin reader (quoted as needed)."""
    return " ".join([f"/{name}", *(shlex.quote(arg) for arg in args)])


def user_key(user: discord.abc.User) -> str:
    return f"discord:{user.id}"


async def size_choices(interaction: Interaction, current: str) -> list[Choice[str]]:
    """Common sizes first; whatever the user typed is offered too (the parser judges it)."""
    typed = current.strip()[:20]
    squeezed = re.sub(r"\s+", "", typed).lower()
    found = [Choice(name=f"{s} ({r})", value=s) for s, r in SIZES.items() if squeezed in s]
    if typed and squeezed not in SIZES:
        found.insert(0, Choice(name=typed, value=typed))
    return found[:25]


def model_choices(models: ModelTable) -> list[Choice[str]]:
    """The deployment's models as the `model` option's choices (Discord takes 25 at most)."""
    return [Choice(name=model.shown[:100], value=model.name) for model in models.models[:25]]


def install(
    tree: app_commands.CommandTree[Any], answers: Answers, models: ModelTable = DEFAULT_TABLE
) -> None:
    """Add every command to `tree`, each answered by `answers`; `models` are the choices of
    /draw's and /model's `model` option."""
    for command in user_commands(answers, models):
        tree.add_command(command)
    tree.add_command(admin_group(answers))


# -- /draw and the user's own commands -----------------------------------------------------


def user_commands(answers: Answers, models: ModelTable = DEFAULT_TABLE) -> list[SlashCommand]:
    @app_commands.command(name=L("draw"), description=L("Draw a picture with Jimeng 2.1"))
    @app_commands.rename(
        prompt=L("prompt"),
        size=L("size"),
        seed=L("seed"),
        steps=L("steps"),
        scale=L("scale"),
        expand=L("expand"),
        super_res=L("super_res"),
        watermark=L("watermark"),
        no_watermark=L("no_watermark"),
        model=L("model"),
        image=L("image"),
    )
    @app_commands.describe(
        prompt=L("What to draw (--flags such as --size 768x512 work here too)"),
        size=L("Width x height, each 256–768, e.g. 768x512"),
        seed=L("Seed, to reproduce an image (default: random)"),
        steps=L("Sampling steps, 1–200 (default 25)"),
        scale=L("How closely to follow the prompt, 1–10 (default 3.5)"),
        expand=L("Let the model expand the prompt (default on)"),
        super_res=L("Super-resolution: output twice the size (default on)"),
        watermark=L("Mark the image with this text"),
        no_watermark=L("Leave the image unmarked"),
        model=L("The model to draw with (default: this chat's, see /models)"),
        image=L("A picture to edit (with a model that edits pictures)"),
    )
    @app_commands.autocomplete(size=size_choices)
    @app_commands.choices(model=model_choices(models))
    async def draw(
        interaction: Interaction,
        prompt: str,
        size: str | None = None,
        seed: Range[int, 0, SEED_MAX] | None = None,
        steps: Range[int, STEPS_MIN, STEPS_MAX] | None = None,
        scale: Range[float, SCALE_MIN, SCALE_MAX] | None = None,
        expand: bool | None = None,
        super_res: bool | None = None,
        watermark: Range[str, 1, 50] | None = None,
        no_watermark: bool | None = None,
        model: Choice[str] | None = None,
        image: discord.Attachment | None = None,
    ) -> None:
        text = draw_text(
            prompt,
            size=size,
            seed=seed,
            steps=steps,
            scale=scale,
            expand=expand,
            super_res=super_res,
            watermark=watermark,
            no_watermark=no_watermark,
            model=model.value if model is not None else None,
        )
        await answers.command(interaction, f"/draw {text}", image)

    @app_commands.command(
        name=L("redo"), description=L("Draw one of your pictures again with the same seed")
    )
    @app_commands.rename(generation_id=L("id"))
    @app_commands.describe(
        generation_id=L("Number of the drawing (see /history); default: your last")
    )
    async def redo(interaction: Interaction, generation_id: Range[int, 1] | None = None) -> None:
        chosen = [] if generation_id is None else [str(generation_id)]
        await answers.command(interaction, command_text("redo", *chosen))

    @app_commands.command(
        name=L("original"), description=L("Send one of your pictures again, free")
    )
    @app_commands.rename(generation_id=L("id"))
    @app_commands.describe(generation_id=L("Number of the drawing (see /history)"))
    async def original(interaction: Interaction, generation_id: Range[int, 1]) -> None:
        await answers.command(interaction, command_text("original", str(generation_id)))

    @app_commands.command(
        name=L("model"), description=L("This chat's model, or choose it (a server's admins)")
    )
    @app_commands.rename(name=L("name"))
    @app_commands.describe(name=L("The model this chat draws with from now on"))
    @app_commands.choices(name=model_choices(models))
    async def model(interaction: Interaction, name: Choice[str] | None = None) -> None:
        chosen = [] if name is None else [name.value]
        await answers.command(interaction, command_text("model", *chosen))

    commands: list[SlashCommand] = [
        draw,
        redo,
        original,
        plain_command(answers, "models", "The models you can draw with"),
        model,
        plain_command(answers, "history", "Your recent drawings"),
        plain_command(answers, "quota", "How many images you have left today"),
        plain_command(answers, "help", "How to use the bot"),
        plain_command(answers, "forget", "Delete your prompts and images"),
        plain_command(answers, "cancel", "Drop your drawings that wait or run (refunded)"),
    ]
    return [anyone_anywhere(command) for command in commands]


def plain_command(answers: Answers, name: str, description: str) -> SlashCommand:
    """A command without options: `/name`."""

    async def callback(interaction: Interaction) -> None:
        await answers.command(interaction, command_text(name))

    return app_commands.Command(name=L(name), description=L(description), callback=callback)


# -- /admin ---------------------------------------------------------------------------------


def admin_group(answers: Answers) -> app_commands.Group:
    admin = app_commands.Group(
        name=L("admin"),
        description=L("Bot administration"),
        # a server install only (integration_types [0]), in servers and the bot's DM ([0, 1])
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=False
        ),
    )

    @admin.command(name=L("ban"), description=L("Stop a user from drawing"))
    @app_commands.rename(user=L("user"), reason=L("reason"))
    @app_commands.describe(user=L("The user"), reason=L("Why (kept in the database)"))
    async def ban(interaction: Interaction, user: discord.User, reason: str | None = None) -> None:
        why = [reason] if reason else []
        await answers.command(interaction, command_text("ban", user_key(user), *why))

    @admin.command(name=L("unban"), description=L("Let a user draw again"))
    @app_commands.rename(user=L("user"))
    @app_commands.describe(user=L("The user"))
    async def unban(interaction: Interaction, user: discord.User) -> None:
        await answers.command(interaction, command_text("unban", user_key(user)))

    @admin.command(name=L("limit"), description=L("Set a daily limit for a user or this server"))
    @app_commands.rename(scope=L("scope"), value=L("value"), user=L("user"))
    @app_commands.describe(
        scope=L("A user or this server"),
        value=L("Images per day, or 'default'"),
        user=L("The user"),
    )
    @app_commands.choices(
        scope=[
            Choice(name=L("user"), value="user"),
            Choice(name=L("this server"), value="chat"),
            Choice(name=L("each member here"), value="member"),
            Choice(name=L("cooldown seconds here"), value="cooldown"),
        ]
    )
    async def limit(
        interaction: Interaction,
        scope: Choice[str],
        value: str,
        user: discord.User | None = None,
    ) -> None:
        who = [user_key(user)] if user is not None else []  # core reads it for `user` only
        await answers.command(interaction, command_text("limit", scope.value, *who, value))

    @admin.command(name=L("chatwatermark"), description=L("This server's default watermark"))
    @app_commands.rename(mode=L("mode"), text=L("text"))
    @app_commands.describe(
        mode=L("on, off, or back to the bot's default"),
        text=L("Watermark text (up to 50 characters)"),
    )
    @app_commands.choices(mode=[Choice(name=L(m), value=m) for m in ("on", "off", "default")])
    async def chatwatermark(
        interaction: Interaction, mode: Choice[str], text: Range[str, 1, 50] | None = None
    ) -> None:
        words = [text] if text else []
        await answers.command(interaction, command_text("chatwatermark", mode.value, *words))

    for name, description in (
        ("enable", "Turn drawing on in this server"),
        ("disable", "Turn drawing off in this server"),
        ("stats", "Usage statistics"),
        ("balance", "The relay account's balance"),
        ("allowed", "Who may draw in private mode"),
        ("blockwords", "The words refused in prompts"),
    ):
        admin.add_command(plain_command(answers, name, description))
    admin.add_command(listing_command(answers, "allow", "Private mode: let a user or server draw"))
    admin.add_command(listing_command(answers, "disallow", "Undo an allow"))
    admin.add_command(word_command(answers, "blockword", "Refuse prompts with this word"))
    admin.add_command(word_command(answers, "unblockword", "Undo a blockword"))
    return admin


def listing_command(answers: Answers, name: str, description: str) -> SlashCommand:
    """`/admin allow|disallow`: a user, or this server (core says so if neither is given)."""

    @app_commands.rename(user=L("user"), this_server=L("this_server"))
    @app_commands.describe(user=L("The user"), this_server=L("This server instead of a user"))
    async def callback(
        interaction: Interaction, user: discord.User | None = None, this_server: bool = False
    ) -> None:
        who = ["chat"] if this_server else [user_key(user)] if user is not None else []
        await answers.command(interaction, command_text(name, *who))

    return app_commands.Command(name=L(name), description=L(description), callback=callback)


def word_command(answers: Answers, name: str, description: str) -> SlashCommand:
    """`/admin blockword|unblockword <word>` (several separated by commas)."""

    @app_commands.rename(word=L("word"))
    @app_commands.describe(word=L("The word (several separated by commas)"))
    async def callback(interaction: Interaction, word: Range[str, 1, 200]) -> None:
        await answers.command(interaction, command_text(name, word))

    return app_commands.Command(name=L(name), description=L(description), callback=callback)
