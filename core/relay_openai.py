"""The OpenAI images family: `POST /v1/images/generations` (JSON), or `/v1/images/edits`
(multipart, with the picture) for an edit. No seed and no watermark in this family."""

from __future__ import annotations

from typing import Any

from core.relay_answers import echoed
from core.relay_http import Drawn, RelayHttp, Task, texts
from core.relay_job import RelayJob

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"


class OpenAIImages:
    """openai: one call answering `{data: [{url} | {b64_json}]}`."""

    def __init__(self, http: RelayHttp) -> None:
        self.http = http

    async def draw(self, job: RelayJob, task: Task, download: bool) -> Drawn:
        fields: dict[str, Any] = {
            "model": job.model.model_id,
            "prompt": job.params.prompt,
            "n": 1,
            "size": job.params.size,
        }  # no response_format: gpt-image-1 refuses it (it answers b64_json), others give urls
        source = job.source
        if source is None:
            body, headers = await self.http.send(GENERATIONS, json=fields)
        else:
            picture = (f"image.{source.extension}", source.data, source.mime)
            body, headers = await self.http.send(
                EDITS, data={k: str(v) for k, v in fields.items()}, files={"image": picture}
            )
        items = [item for item in body.get("data") or [] if isinstance(item, dict)]
        urls = texts([item.get("url") for item in items])
        encoded = texts([item.get("b64_json") for item in items])
        found = headers.get("x-request-id") or body.get("request_id") or body.get("id")
        request_id = str(echoed(found, self.http.key_forms)) if found else None
        images = await self.http.images(urls, encoded, request_id, download)
        revised = texts([item.get("revised_prompt") for item in items])
        return Drawn(images, request_id, revised[0] if revised else None, urls)
