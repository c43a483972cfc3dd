"""The Discord adapter: slash commands and buttons in, core's answers out.

client.py runs discord.py; commands.py declares the slash commands (as text for core);
buttons.py the persistent result buttons; handlers.py turns each interaction into one
core Request and renders the answer; locales.py holds the zh-CN command names.
"""

from bots.discord.client import DrawbotClient, run, serve, sync_commands

__all__ = ["DrawbotClient", "run", "serve", "sync_commands"]
