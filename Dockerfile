# drawbot: one image for every adapter. Settings come from the environment (or a mounted .env).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY core ./core
COPY bots ./bots
RUN pip install . && useradd --create-home --uid 10001 drawbot && mkdir -p /app/data \
    && chown drawbot:drawbot /app/data

USER drawbot
# The database and the kept images live here: mount a volume so they survive new containers.
VOLUME ["/app/data"]
ENV DATABASE_PATH=/app/data/bot.db IMAGE_DIR=/app/data/images PORT=8080
EXPOSE 8080

# SIGTERM (docker stop) lets draws in flight finish within SHUTDOWN_GRACE_SECONDS.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bots"]
