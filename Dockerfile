# drawbot: one image for every adapter. Settings come from the environment (or a mounted .env).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md LICENSE ./
COPY core ./core
COPY bots ./bots
# The bot runs as uid/gid 10001, not root. /app/data belongs to it, and a new named volume
# copies that ownership; a bind-mounted host folder does not: `chown -R 10001:10001 ./data`
# first, or SQLite stops with "unable to open database file".
RUN pip install . \
    && groupadd --gid 10001 drawbot \
    && useradd --uid 10001 --gid 10001 --create-home drawbot \
    && mkdir -p /app/data \
    && chown drawbot:drawbot /app/data

USER drawbot
# The database and the kept images live here: mount a volume so they survive new containers.
VOLUME ["/app/data"]
# PORT set: /healthz (and the Telegram webhook, when TELEGRAM_WEBHOOK_URL is set) listen on it.
ENV DATABASE_PATH=/app/data/bot.db IMAGE_DIR=/app/data/images PORT=8080
EXPOSE 8080

# 503 (the database fails, an adapter is down or silent for 90 s) or no answer: unhealthy.
# slim images have no curl; python's urllib raises on anything but 2xx.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=8)"]

# SIGTERM (docker stop) lets draws in flight finish within SHUTDOWN_GRACE_SECONDS (25 s by
# default): give `docker stop` longer than that (`--time 40`, compose's stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bots"]
