"""Sentences of private mode and blocked words (core/access.py) and of the admin commands
that change them. Part of the table in core/messages.py."""

from __future__ import annotations

ACCESS_TEXTS: dict[str, dict[str, str]] = {
    "access_private": {
        "en": "Sorry, this bot is private: it only draws for the people and chats its "
        "operator has invited.",
        "zh": "抱歉,这是一个私人机器人,只为运营者邀请的用户和群组画图。",
    },
    "access_blocked_word": {
        "en": "Your prompt contains a word this bot does not draw; please change it and "
        "try again (nothing was counted).",
        "zh": "你的提示词里有本机器人不画的词,请修改后再试(本次不计入额度)。",
    },
    "access_usage": {
        "en": "Private mode and blocked words (bot admins):\n"
        "{p}allow <user>, {p}allow chat [<chat>] (this chat without one), {p}disallow …\n"
        "{p}allowed (who is listed)\n"
        "{p}blockword <word>[, <word>…], {p}unblockword <word>, {p}blockwords (the list)\n"
        "<user> is telegram:12345 / discord:12345 / console:name (or reply to their message); "
        "<chat> is telegram:-100123 / discord:<server id>.",
        "zh": "私人模式与屏蔽词(机器人管理员):\n"
        "{p}allow <用户>、{p}allow chat [<群>](不写则为本群)、{p}disallow …\n"
        "{p}allowed(查看名单)\n"
        "{p}blockword <词>[,<词>…]、{p}unblockword <词>、{p}blockwords(查看列表)\n"
        "<用户> 写作 telegram:12345 / discord:12345 / console:名字(或回复其消息);"
        "<群> 写作 telegram:-100123 / discord:<服务器 ID>。",
    },
    "access_name_target": {
        "en": "Name whom to list: a user like telegram:12345, or 'chat' for this chat.",
        "zh": "请指明对象:用户(如 telegram:12345),或写 chat 表示本群。",
    },
    "access_not_chat": {
        "en": "{value!r} is not a chat id: write telegram:-100123, discord:<server id> "
        "or console:<name>.",
        "zh": "{value!r} 不是群 ID:请写 telegram:-100123、discord:<服务器 ID> 或 console:<名字>。",
    },
    "access_not_user": {
        "en": "{value!r} is not a user id: write 12345, telegram:12345, discord:12345 "
        "or console:<name>.",
        "zh": "{value!r} 不是用户 ID:请写 12345、telegram:12345、discord:12345 或 console:<名字>。",
    },
    "access_done": {"en": "Done: {what}.\n{mode}", "zh": "已完成:{what}。\n{mode}"},
    "access_already": {
        "en": "{what} was already there; nothing changed.\n{mode}",
        "zh": "{what} 已在名单中,没有变化。\n{mode}",
    },
    "access_not_listed": {
        "en": "{what} was not added at run time; nothing changed.\n{mode}",
        "zh": "{what} 不在运行时添加的名单中,没有变化。\n{mode}",
    },
    "access_in_settings": {
        "en": "{what} comes from the {setting} setting: remove it there and restart "
        "(these commands only undo what they added).",
        "zh": "{what} 来自设置 {setting}:请在设置中删除并重启"
        "(这些命令只能撤销它们自己添加的内容)。",
    },
    "access_mode_on": {
        "en": "Private mode is on: {users} users and {chats} chats listed; everyone else "
        "is refused (bot admins always pass).",
        "zh": "私人模式已开启:名单中有 {users} 个用户、{chats} 个群;"
        "其他人会被拒绝(机器人管理员不受限)。",
    },
    "access_mode_off": {
        "en": "Private mode is off: everyone may draw.",
        "zh": "私人模式未开启:所有人都可以画图。",
    },
    "access_listed": {
        "en": "Users: {users}\nChats: {chats}\n{mode}",
        "zh": "用户:{users}\n群:{chats}\n{mode}",
    },
    "access_word_usage": {
        "en": "Write the word: {p}blockword <word> (several separated by commas).",
        "zh": "请写出要屏蔽的词:{p}blockword <词>(多个用逗号分隔)。",
    },
    "access_word_bad": {
        "en": "{value!r} cannot be a blocked word: use 1 to {max} visible characters.",
        "zh": "{value!r} 不能作为屏蔽词:请使用 1 到 {max} 个可见字符。",
    },
    "access_words": {
        "en": "Blocked words ({count}; * from the BLOCKED_WORDS setting): {words}",
        "zh": "屏蔽词({count} 个;* 表示来自设置 BLOCKED_WORDS):{words}",
    },
    "access_words_none": {"en": "No words are blocked.", "zh": "没有屏蔽词。"},
}
