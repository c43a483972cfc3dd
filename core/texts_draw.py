"""Sentences about drawing: usage, what is wrong with a request, why a draw failed, results.

Part of the table in core/messages.py (zh and en for every key)."""

from __future__ import annotations

USAGE_EN = """Usage: /draw <prompt> [options]
  --size WxH       width and height, each 256–768 (default 512x512); also 768×512, 768*512
  --ar W:H         aspect ratio, largest size that fits (e.g. --ar 3:2 → 768x512)
  --seed N         0–2147483647, to reproduce an image (default: random)
  --steps N        1–200 sampling steps (default 25)
  --scale X        1–10, how closely to follow the prompt (default 3.5)
  --no-expand      do not let the model expand the prompt (--expand turns it back on)
  --no-sr          no super-resolution: output at the asked size, not doubled (--sr: on)
  --watermark "T"  mark the image with text T; --no-watermark to leave it unmarked
  --wm-pos tl|tr|bl|br, --wm-opacity 0–1   where and how visible the watermark is
Example: /draw a red fox in the snow, watercolor --size 768x512 --seed 42"""

USAGE_ZH = """用法:/draw <提示词> [选项]
  --size 宽x高      宽、高各 256–768(默认 512x512),也可写 768×512、768*512
  --ar 宽:高        画幅比例,自动取最大尺寸(如 --ar 3:2 → 768x512)
  --seed 数字       0–2147483647,用于复现图片(默认随机)
  --steps 数字      采样步数 1–200(默认 25)
  --scale 数字      1–10,贴合提示词的程度(默认 3.5)
  --no-expand       关闭提示词扩写(--expand 开启)
  --no-sr           关闭超分:按所选尺寸输出,不放大一倍(--sr 开启)
  --watermark "文字"  添加自定义水印;--no-watermark 不加水印
  --wm-pos tl|tr|bl|br、--wm-opacity 0–1   水印位置与不透明度
示例:/draw 雪地里的红狐狸,水彩 --size 768x512 --seed 42"""

DRAW_TEXTS: dict[str, dict[str, str]] = {
    "usage": {"en": USAGE_EN, "zh": USAGE_ZH},
    "start": {
        "en": "Hi {name}! I draw pictures with Jimeng 2.1. To draw, write for example\n"
        "/draw a red fox in the snow, watercolor\n\n{commands}",
        "zh": "你好,{name}!我用即梦 2.1 画图。画图请这样写,例如:\n"
        "/draw 雪地里的红狐狸,水彩\n\n{commands}",
    },
    "empty_prompt": {
        "en": "Tell me what to draw.\n\n{usage}",
        "zh": "请告诉我要画什么。\n\n{usage}",
    },
    "unknown_flag": {
        "en": "Unknown option {flag}.{hint} Send /help for every option.",
        "zh": "未知选项 {flag}。{hint}发送 /help 查看全部选项。",
    },
    "unknown_flag_hint": {"en": " Did you mean {suggestion}?", "zh": "你是不是想用 {suggestion}?"},
    "bad_size": {
        "en": "Size {value!r} is not possible: width and height must each be {min}–{max}, "
        "written like --size 768x512.",
        "zh": "尺寸 {value!r} 不可用:宽和高都须在 {min}–{max} 之间,例如 --size 768x512。",
    },
    "bad_size_model": {
        "en": "Size {value!r} is not possible with {model}: width and height must each be "
        "{min}–{max}, written like --size {example}.",
        "zh": "尺寸 {value!r} 不适用于 {model}:宽和高都须在 {min}–{max} 之间,"
        "例如 --size {example}。",
    },
    "bad_size_list": {
        "en": "Size {value!r} is not offered by {model}: choose one of {sizes}.",
        "zh": "{model} 不支持尺寸 {value!r}:请从 {sizes} 中选一个。",
    },
    "bad_ratio_model": {
        "en": "Aspect ratio {value!r} does not fit {model}, which draws {sizes}.",
        "zh": "画幅比例 {value!r} 不适用于 {model}(支持 {sizes})。",
    },
    "unknown_model": {
        "en": "There is no model {value!r} here.{hint} Models: {models} (/models describes them).",
        "zh": "这里没有模型 {value!r}。{hint}可用模型:{models}(/models 查看详情)。",
    },
    "bad_ratio": {
        "en": "Aspect ratio {value!r} is not possible: use W:H between 1:3 and 3:1, like --ar 3:2.",
        "zh": "画幅比例 {value!r} 不可用:请用 1:3 到 3:1 之间的 宽:高,例如 --ar 3:2。",
    },
    "bad_number": {
        "en": "{flag} must be from {min} to {max} (got {value!r}).",
        "zh": "{flag} 须在 {min} 到 {max} 之间(收到 {value!r})。",
    },
    "missing_value": {
        "en": "{flag} needs a value. Send /help for details.",
        "zh": "{flag} 后面需要一个值。发送 /help 查看用法。",
    },
    "size_conflict": {
        "en": "Use either --size or --ar, not both.",
        "zh": "--size 和 --ar 只能选一个。",
    },
    "prompt_too_long": {
        "en": "The prompt is {length} characters; the most is {max}. Please shorten it.",
        "zh": "提示词有 {length} 个字符,最多 {max} 个,请精简。",
    },
    "bad_watermark": {
        "en": 'Watermark text must be 1–{max} characters, e.g. --watermark "my bot".',
        "zh": '水印文字须为 1–{max} 个字符,例如 --watermark "我的机器人"。',
    },
    "bad_position": {
        "en": "Watermark position {value!r} is unknown: use tl, tr, bl or br.",
        "zh": "未知的水印位置 {value!r}:请用 tl、tr、bl 或 br。",
    },
    "watermark_locked": {
        "en": "This bot always adds its watermark; the watermark options are turned off here.",
        "zh": "本机器人固定添加水印,此处不能修改水印选项。",
    },
    # the picture to edit (a reply to a photo, an attachment); nothing was charged
    "source_too_large": {
        "en": "That picture is too large to edit ({size}); the most is {limit}. "
        "Send a smaller one; no quota was used.",
        "zh": "这张图片太大({size}),最多 {limit},无法编辑。请换一张小一些的图片,本次不扣额度。",
    },
    "source_not_image": {
        "en": "That file is not a picture I can edit: send a PNG, JPEG or WebP image; "
        "no quota was used.",
        "zh": "这个文件不是可编辑的图片:请发送 PNG、JPEG 或 WebP 图片,本次不扣额度。",
    },
    "source_unfetchable": {
        "en": "I could not download the picture to edit. Please send it again; no quota was used.",
        "zh": "无法下载要编辑的图片,请重新发送,本次不扣额度。",
    },
    "model_cannot_edit": {
        "en": "The model {model} cannot edit pictures. Models that can: {editors} "
        "(choose one with --model NAME, e.g. --model {example}).",
        "zh": "模型 {model} 不能编辑图片。可以编辑的模型:{editors}"
        "(用 --model 名称 选择,例如 --model {example})。",
    },
    "source_gone": {
        "en": "Drawing #{id} edited a picture that is not kept, so it cannot be drawn again. "
        "Reply to the picture again with /draw to edit it.",
        "zh": "作品 #{id} 编辑的原图没有保存,无法再画一次。请再次回复那张图片并发送 /draw 来编辑。",
    },
    # refusals before drawing
    "banned": {
        "en": "You are not allowed to draw with this bot.",
        "zh": "你已被禁止使用本机器人画图。",
    },
    "chat_disabled": {
        "en": "Drawing is turned off in this chat. An admin can turn it on with /enable.",
        "zh": "本群已关闭画图。管理员可发送 /enable 开启。",
    },
    "user_daily": {
        "en": "You have used all {limit} images for today. Your quota resets at {reset} ({zone}).",
        "zh": "你今天的 {limit} 张额度已用完,将于 {reset}({zone})重置。",
    },
    "chat_daily": {
        "en": "This chat has used all {limit} images for today. It resets at {reset} ({zone}).",
        "zh": "本群今天的 {limit} 张额度已用完,将于 {reset}({zone})重置。",
    },
    "user_daily_units": {
        "en": "You have used all {limit} units for today. Your quota resets at {reset} ({zone}).",
        "zh": "你今天的 {limit} 点额度已用完,将于 {reset}({zone})重置。",
    },
    "chat_daily_units": {
        "en": "This chat has used all {limit} units for today. It resets at {reset} ({zone}).",
        "zh": "本群今天的 {limit} 点额度已用完,将于 {reset}({zone})重置。",
    },
    "user_daily_cost": {
        "en": "This model costs {cost} units per image and you have {left} of {limit} units "
        "left today. Choose a cheaper one (/models) or wait until {reset} ({zone}).",
        "zh": "这个模型每张消耗 {cost} 点额度,你今天的 {limit} 点只剩 {left} 点。"
        "请换个更省的模型(/models),或等到 {reset}({zone})重置。",
    },
    "chat_daily_cost": {
        "en": "This model costs {cost} units per image and this chat has {left} of {limit} "
        "units left today. Choose a cheaper one (/models) or wait until {reset} ({zone}).",
        "zh": "这个模型每张消耗 {cost} 点额度,本群今天的 {limit} 点只剩 {left} 点。"
        "请换个更省的模型(/models),或等到 {reset}({zone})重置。",
    },
    "in_flight": {
        "en": "You already have {limit} drawing(s) in progress. Wait for them to finish.",
        "zh": "你已有 {limit} 张图正在生成,请等它们完成后再试。",
    },
    "cooldown": {
        "en": "Please wait {seconds} s before your next drawing.",
        "zh": "请等待 {seconds} 秒后再画下一张。",
    },
    "shutting_down": {
        "en": "The bot is restarting. Please send your request again in a minute; "
        "nothing was charged.",
        "zh": "机器人正在重启,请稍后重新发送,本次不扣额度。",
    },
    "duplicate": {
        "en": "This message was already handled (drawing #{id}).",
        "zh": "这条消息已经处理过了(作品 #{id})。",
    },
    "store_busy": {
        "en": "The bot cannot record drawings right now (its database is busy). "
        "Please try again in a minute; no quota was used.",
        "zh": "机器人暂时无法记录画图(数据库繁忙),请一分钟后重试,本次不扣额度。",
    },
    "unknown": {
        "en": "Drawing is not possible right now. Please try again later.",
        "zh": "暂时无法画图,请稍后再试。",
    },
    # failures of the relay; no quota was used
    "prompt_refused": {
        "en": "The model refused this prompt (content policy). Please rephrase it; "
        "no quota was used.",
        "zh": "提示词未通过内容审核,请修改后重试,本次不扣额度。",
    },
    "output_refused": {
        "en": "The image was blocked by the content filter. Try a different prompt or seed; "
        "no quota was used.",
        "zh": "生成的图片未通过内容审核,请换个提示词或种子重试,本次不扣额度。",
    },
    "busy": {
        "en": "The image service is busy right now. Please try again in a minute; "
        "no quota was used.",
        "zh": "绘图服务繁忙,请一分钟后重试,本次不扣额度。",
    },
    "internal": {
        "en": "The image service had an internal error. Please try again; no quota was used.",
        "zh": "绘图服务内部出错,请重试,本次不扣额度。",
    },
    "unreachable": {
        "en": "The image service did not answer in time. Please try again later; "
        "no quota was used.",
        "zh": "绘图服务没有及时响应,请稍后重试,本次不扣额度。",
    },
    "bad_key": {
        "en": "The bot is misconfigured (its image service key was rejected). "
        "The operator has been told; no quota was used.",
        "zh": "机器人配置有误(绘图服务密钥无效),已通知管理员,本次不扣额度。",
    },
    "no_balance": {
        "en": "The bot's image service account is out of balance. The operator has been told; "
        "no quota was used.",
        "zh": "机器人的绘图服务余额不足,已通知管理员,本次不扣额度。",
    },
    "bad_request": {
        "en": "The image service rejected these parameters. Please check them (/help); "
        "no quota was used.",
        "zh": "绘图服务拒绝了这些参数,请检查(/help),本次不扣额度。",
    },
    "no_image": {
        "en": "The image service returned no image. Please try again; no quota was used.",
        "zh": "绘图服务没有返回图片,请重试,本次不扣额度。",
    },
    "task_lost": {
        "en": "The image service lost this drawing (its task was not found or expired). "
        "Please send it again; no quota was used.",
        "zh": "绘图服务丢失了这次画图(任务不存在或已过期),请重新发送,本次不扣额度。",
    },
    "image": {
        "en": "The image could not be downloaded. Please try again; no quota was used.",
        "zh": "图片下载失败,请重试,本次不扣额度。",
    },
    "interrupted": {
        "en": "Your drawing was interrupted by a restart. Please send it again; no quota was used.",
        "zh": "机器人重启打断了你的绘图,请重新发送,本次不扣额度。",
    },
    "resumes": {
        "en": "The bot is restarting while your picture is being drawn. It will be sent here "
        "once the bot is back, and it counts once.",
        "zh": "机器人正在重启,你的图仍在生成,重启后会发到这里,只计一次额度。",
    },
    "error": {
        "en": "Something went wrong while drawing. Please try again; no quota was used.",
        "zh": "画图时出错了,请重试,本次不扣额度。",
    },
    "refund_delayed": {
        "en": "Your drawing failed. It will not count against your quota, but the bot cannot "
        "record that right now, so /quota may count it for a few minutes.",
        "zh": "这次画图失败了,不会计入额度;但暂时无法记录,/quota 可能在几分钟内仍显示已用。",
    },
    "send_failed": {
        "en": "Picture #{id} was drawn but could not be sent here, so it did not count. "
        "It is kept: /original {id} sends it again, free.",
        "zh": "作品 #{id} 已生成但发送失败,不计入额度。"
        "图片已保存:发送 /original {id} 可免费重新获取。",
    },
    "too_large": {
        "en": "Image {n} ({size:.1f} MB) is over the {limit:.0f} MB upload limit here "
        "and could not be attached.",
        "zh": "第 {n} 张图({size:.1f} MB)超过此处 {limit:.0f} MB 的上传上限,无法附上。",
    },
    "too_large_link": {
        "en": "Image {n} ({size:.1f} MB) is over the {limit:.0f} MB upload limit here; "
        "it is at {url} for about a day.",
        "zh": "第 {n} 张图({size:.1f} MB)超过此处 {limit:.0f} MB 的上传上限,"
        "可在约一天内从 {url} 查看。",
    },
    # results and views
    "drawing": {"en": "Drawing… ({size})", "zh": "正在画图…({size})"},
    "caption": {
        "en": "{prompt}\n{size} · seed {seed} · #{id}",
        "zh": "{prompt}\n{size} · 种子 {seed} · #{id}",
    },
    "caption_model": {
        "en": "{prompt}\n{model} · {size} · seed {seed} · #{id}",
        "zh": "{prompt}\n{model} · {size} · 种子 {seed} · #{id}",
    },
    "button_again": {"en": "🎲 Again", "zh": "🎲 再画一张"},
    "button_resize": {"en": "↔ Same seed, {size}", "zh": "↔ 同种子 {size}"},
    "button_original": {"en": "📄 Original file", "zh": "📄 原图"},
}
