"""The fake relay's OpenAI-style billing endpoints, as new-api and one-api answer them."""

from __future__ import annotations

from aiohttp import web

SUBSCRIPTION = "/v1/dashboard/billing/subscription"
USAGE = "/v1/dashboard/billing/usage"


class Billing:
    """Granted dollars and used cents; `None` figures: the relay has no billing (404)."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.granted: float | None = None
        self.used_cents: float | None = None

    def routes(self, app: web.Application) -> None:
        app.router.add_get(SUBSCRIPTION, self._subscription)
        app.router.add_get(USAGE, self._usage)

    def _refusal(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            error = {"message": "invalid token", "type": "new_api_error", "code": None}
            return web.json_response({"error": error}, status=401)
        if self.granted is None or self.used_cents is None:
            return web.Response(status=404, text="404 page not found")
        return None

    async def _subscription(self, request: web.Request) -> web.Response:
        if (refused := self._refusal(request)) is not None:
            return refused
        return web.json_response(
            {
                "object": "billing_subscription",
                "has_payment_method": True,
                "soft_limit_usd": self.granted,
                "hard_limit_usd": self.granted,
                "system_hard_limit_usd": self.granted,
                "access_until": 0,
            }
        )

    async def _usage(self, request: web.Request) -> web.Response:
        if (refused := self._refusal(request)) is not None:
            return refused
        return web.json_response({"object": "list", "total_usage": self.used_cents})
