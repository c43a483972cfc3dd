"""Every sentence `python -m bots admin` prints, in Chinese and English. Part of the table in
core/messages.py; one language per run (bots/admin_cli.py picks it)."""

from __future__ import annotations

CLI_TEXTS: dict[str, dict[str, str]] = {
    "cli_usage": {
        "en": "usage: python -m bots admin <command> [arguments]\n\n"
        "  ban <user> [reason]                 stop a user drawing (e.g. ban telegram:12345 spam)\n"
        "  unban <user>                        let a banned user draw again\n"
        "  limit-user <user> <n|default>       images per day for one user (0: no limit)\n"
        "  limit-chat <chat> <n|default>       images per day for one group, at most\n"
        "  limit-member <chat> <n|default>     images per day for each user in one group, "
        "at most\n"
        "  cooldown <chat> <seconds|default>   seconds between a user's draws in one chat, "
        "at least\n"
        "  enable <chat>                       allow drawing in a chat\n"
        "  disable <chat>                      stop drawing in a chat\n"
        "  stats                               draws today and this week, failures, top users\n"
        "  history <user> [n]                  a user's last n drawings (20 if not given)\n"
        "  forget <user>                       delete a user's prompts and images "
        "(counts stay)\n"
        "  balance                             the relay's balance "
        "(needs YUNAPI_BASE_URL and YUNAPI_API_KEY)\n\n"
        "<user>: telegram:<digits>, discord:<digits> or console:<name>\n"
        "<chat>: telegram:<digits> (groups: telegram:-100...) or discord:<server id>\n"
        "default: back to the setting (DAILY_LIMIT, CHAT_DAILY_LIMIT, COOLDOWN_SECONDS)\n"
        "Only balance talks to the relay; everything else uses the database alone "
        "(DATABASE_PATH), whether the bot is running or not.",
        "zh": "用法:python -m bots admin <命令> [参数]\n\n"
        "  ban <用户> [原因]                   禁止用户画图(例:ban telegram:12345 刷屏)\n"
        "  unban <用户>                        解除禁止\n"
        "  limit-user <用户> <数量|default>    某用户每日张数(0:不限)\n"
        "  limit-chat <群> <数量|default>      某群每日总张数上限\n"
        "  limit-member <群> <数量|default>    某群中每人每日张数上限\n"
        "  cooldown <群> <秒数|default>        某群中同一用户两次画图的最短间隔\n"
        "  enable <群>                         允许在该群画图\n"
        "  disable <群>                        禁止在该群画图\n"
        "  stats                               今天和近 7 天的张数、失败、活跃用户\n"
        "  history <用户> [n]                  某用户最近 n 张作品(默认 20)\n"
        "  forget <用户>                       删除某用户的提示词和图片(计数保留)\n"
        "  balance                             中转余额(需要 YUNAPI_BASE_URL 和 YUNAPI_API_KEY)\n\n"
        "<用户>:telegram:<数字>、discord:<数字> 或 console:<名字>\n"
        "<群>:telegram:<数字>(群组形如 telegram:-100...)或 discord:<服务器 ID>\n"
        "default:恢复为设置中的值(DAILY_LIMIT、CHAT_DAILY_LIMIT、COOLDOWN_SECONDS)\n"
        "只有 balance 会访问中转站;其余命令只用数据库(DATABASE_PATH),机器人运行与否都可以。",
    },
    "cli_usage_short": {
        "en": "usage: python -m bots admin <command> [arguments]\n"
        "commands: {commands}\n"
        "`python -m bots admin help` explains each.",
        "zh": "用法:python -m bots admin <命令> [参数]\n"
        "命令:{commands}\n"
        "`python -m bots admin help` 逐条说明。",
    },
    "cli_no_command": {
        "en": "drawbot admin: name a command.",
        "zh": "drawbot admin:请写出一个命令。",
    },
    "cli_unknown_command": {
        "en": "drawbot admin: unknown command {command!r}; did you mean {suggestion}?",
        "zh": "drawbot admin:没有 {command!r} 这个命令;你是不是想用 {suggestion}?",
    },
    "cli_unknown_command_alone": {
        "en": "drawbot admin: unknown command {command!r}.",
        "zh": "drawbot admin:没有 {command!r} 这个命令。",
    },
    "cli_write_it_as": {
        "en": "write it as: python -m bots admin {form}",
        "zh": "写法:python -m bots admin {form}",
    },
    "cli_missing": {
        "en": "drawbot admin: {command} needs {what}.",
        "zh": "drawbot admin:{command} 需要{what}。",
    },
    "cli_too_many": {
        "en": "drawbot admin: {command} takes nothing after {last!r} (got {extra!r}).",
        "zh": "drawbot admin:{command} 在 {last!r} 之后不接受参数(多了 {extra!r})。",
    },
    "cli_nothing_after_command": {
        "en": "drawbot admin: {command} takes no arguments (got {extra!r}).",
        "zh": "drawbot admin:{command} 不接受参数(多了 {extra!r})。",
    },
    "cli_arg_user": {
        "en": "a user (telegram:<digits>, discord:<digits> or console:<name>)",
        "zh": "一个用户(telegram:<数字>、discord:<数字> 或 console:<名字>)",
    },
    "cli_arg_chat": {
        "en": "a chat (telegram:<digits>, e.g. telegram:-1001234, or discord:<server id>)",
        "zh": "一个群(telegram:<数字>,如 telegram:-1001234,或 discord:<服务器 ID>)",
    },
    "cli_arg_number": {
        "en": "a number or default",
        "zh": "一个数字或 default",
    },
    "cli_not_user": {
        "en": "drawbot admin: {value!r} is not a user; write telegram:<digits>, "
        "discord:<digits> or console:<name>, e.g. telegram:12345.",
        "zh": "drawbot admin:{value!r} 不是用户;请写 telegram:<数字>、discord:<数字> "
        "或 console:<名字>,例如 telegram:12345。",
    },
    "cli_not_chat": {
        "en": "drawbot admin: {value!r} is not a chat; write telegram:<digits> "
        "(a group looks like telegram:-1001234) or discord:<server id>.",
        "zh": "drawbot admin:{value!r} 不是群;请写 telegram:<数字>"
        "(群组形如 telegram:-1001234)或 discord:<服务器 ID>。",
    },
    "cli_not_limit": {
        "en": "drawbot admin: {value!r} is not allowed for {command}; write a whole number "
        "from {low} to {high}, or default to go back to {setting}.",
        "zh": "drawbot admin:{command} 不接受 {value!r};请写 {low} 到 {high} 之间的整数,"
        "或写 default 恢复为 {setting}。",
    },
    "cli_not_count": {
        "en": "drawbot admin: {value!r} is not a number of drawings; write a whole number "
        "from {low} to {high}.",
        "zh": "drawbot admin:{value!r} 不是作品数量;请写 {low} 到 {high} 之间的整数。",
    },
    "cli_config": {
        "en": "drawbot admin: the configuration has problems:",
        "zh": "drawbot admin:配置有问题:",
    },
    "cli_config_hint": {
        "en": "`python -m bots --help` lists every setting.",
        "zh": "`python -m bots --help` 列出了所有设置。",
    },
    "cli_needs_relay": {
        "en": "drawbot admin: balance asks the relay, so it needs YUNAPI_BASE_URL and "
        "YUNAPI_API_KEY (in the environment or .env); the other commands do not.",
        "zh": "drawbot admin:balance 需要访问中转站,因此要设置 YUNAPI_BASE_URL 和 "
        "YUNAPI_API_KEY(环境变量或 .env);其他命令不需要。",
    },
    "cli_relay_failed": {
        "en": "drawbot admin: the relay did not give its balance: {reason}",
        "zh": "drawbot admin:中转站没有返回余额:{reason}",
    },
    "cli_database_failed": {
        "en": "drawbot admin: the database could not be used: {error}",
        "zh": "drawbot admin:数据库无法使用:{error}",
    },
    "cli_banned": {
        "en": "{user} is banned: they can no longer draw.",
        "zh": "已禁止 {user} 画图。",
    },
    "cli_banned_because": {
        "en": "{user} is banned ({reason}): they can no longer draw.",
        "zh": "已禁止 {user} 画图(原因:{reason})。",
    },
    "cli_unbanned": {
        "en": "{user} is no longer banned.",
        "zh": "已解除对 {user} 的禁止。",
    },
    "cli_limit_user": {
        "en": "{user} may now receive {value} images per day.",
        "zh": "{user} 现在每天可生成 {value} 张。",
    },
    "cli_limit_user_none": {
        "en": "{user} now has no daily limit.",
        "zh": "{user} 现在不受每日张数限制。",
    },
    "cli_limit_user_default": {
        "en": "{user} is back to the daily limit of the settings (DAILY_LIMIT).",
        "zh": "{user} 已恢复为设置中的每日张数(DAILY_LIMIT)。",
    },
    "cli_limit_chat": {
        "en": "{chat} may now receive at most {value} images per day.",
        "zh": "{chat} 现在每天最多生成 {value} 张。",
    },
    "cli_limit_chat_default": {
        "en": "{chat} is back to the chat limit of the settings (CHAT_DAILY_LIMIT).",
        "zh": "{chat} 已恢复为设置中的每群每日张数(CHAT_DAILY_LIMIT)。",
    },
    "cli_limit_member": {
        "en": "Each user in {chat} may now receive at most {value} images per day there.",
        "zh": "{chat} 中每人每天最多生成 {value} 张。",
    },
    "cli_limit_member_default": {
        "en": "Users in {chat} are back to the daily limit of the settings (DAILY_LIMIT).",
        "zh": "{chat} 中每人已恢复为设置中的每日张数(DAILY_LIMIT)。",
    },
    "cli_cooldown": {
        "en": "Users in {chat} now wait at least {value} seconds between draws.",
        "zh": "{chat} 中同一用户两次画图现在至少间隔 {value} 秒。",
    },
    "cli_cooldown_default": {
        "en": "{chat} is back to the wait of the settings (COOLDOWN_SECONDS).",
        "zh": "{chat} 已恢复为设置中的间隔(COOLDOWN_SECONDS)。",
    },
    "cli_enabled": {
        "en": "Drawing is allowed in {chat}.",
        "zh": "已允许在 {chat} 画图。",
    },
    "cli_disabled": {
        "en": "Drawing is stopped in {chat}.",
        "zh": "已禁止在 {chat} 画图。",
    },
    "cli_forgotten": {
        "en": "The prompts and images of {user} are deleted (drawings: {count}); "
        "usage counts stay, so quotas stay exact.",
        "zh": "已删除 {user} 的提示词和图片({count} 条记录);用量计数保留,以保证额度准确。",
    },
    "cli_history_empty": {
        "en": "{user} has no drawings.",
        "zh": "{user} 没有作品。",
    },
    "cli_history_line": {
        "en": "#{id} {when} · {status} · {model}{size} · seed {seed} · {prompt}",
        "zh": "#{id} {when} · {status} · {model}{size} · 种子 {seed} · {prompt}",
    },
    "cli_history_failed": {
        "en": "{status} ({kind})",
        "zh": "{status}({kind})",
    },
    "cli_stats": {
        "en": "Today: {today} images, {today_failed} failed. Last 7 days: {week} images, "
        "{week_failed} failed.\nFailures by cause: {failures}\nTop users: {top}\n"
        "Images by model, last 7 days: {models}\n"
        "Mean relay time: {mean}\nKnown users: {users}\n"
        "(The running bot's queue and relay window: /stats in a chat.)",
        "zh": "今天:{today} 张,失败 {today_failed} 次。近 7 天:{week} 张,失败 {week_failed} 次。\n"
        "失败原因:{failures}\n活跃用户:{top}\n近 7 天各模型张数:{models}\n"
        "平均生成耗时:{mean}\n用户总数:{users}\n"
        "(运行中机器人的排队和并发窗口:在聊天中发送 /stats 查看。)",
    },
}
