"""A local aiohttp server that answers like Slack (incoming webhooks and chat.postMessage), for tests."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

TOKEN = "xoxb-0000000000-test-token"
CHANNEL = "C0CREDWATCH"
WEBHOOK_PATH = "/services/T0TEST0000/B0TEST0000/x0AbCdEfGhIjKlMnOpQrStUv"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scripted:
    """A canned answer served instead of the normal one (429, 5xx, `ok: false`...)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # str → text/plain, anything else → JSON


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: bytes
    payload: Any  # parsed JSON, None when unparsable
    at: float  # time.monotonic()


def block_problems(payload: Any) -> list[str]:
    """What Slack would refuse in a message: the documented Block Kit limits."""
    if not isinstance(payload, dict):
        return ["payload is not an object"]
    problems: list[str] = []
    if not payload.get("text") and not payload.get("blocks"):
        problems.append("no_text")
    blocks = payload.get("blocks") or []
    if len(blocks) > 50:
        problems.append("more than 50 blocks")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        text = block.get("text") or {}
        if kind == "header" and (text.get("type") != "plain_text" or len(text["text"]) > 150):
            problems.append(f"block {i}: header")
        if kind == "section":
            if text and len(text.get("text", "")) > 3000:
                problems.append(f"block {i}: section text > 3000")
            fields = block.get("fields") or []
            if len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields):
                problems.append(f"block {i}: fields")
            if not text and not fields:
                problems.append(f"block {i}: empty section")
        if kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                problems.append(f"block {i}: context elements")
    if len(json.dumps(blocks)) > 13000:
        problems.append("msg_blocks_too_long")
    return problems


class SlackServer:
    """Fake Slack on 127.0.0.1 with an ephemeral port. Use as `async with SlackServer() as s:`."""

    def __init__(self) -> None:
        self.calls: list[Seen] = []
        self.posted: list[dict[str, Any]] = []  # accepted messages, in order
        # Called with each accepted message before its answer leaves (a test may kill the
        # sender here: the message is then posted but the sender never learns it).
        self.on_post: Callable[[dict[str, Any]], None] | None = None
        self._script: deque[Scripted] = deque()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._ts = 0

    def script(self, *answers: Scripted) -> None:
        """Answer the next requests with these, in order, then behave normally again."""
        self._script.extend(answers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    @property
    def api_url(self) -> str:
        return self.url + "/api"

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_post("/services/{team}/{bot}/{key}", self._webhook)
        app.router.add_post("/api/chat.postMessage", self._post_message)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _record(self, request: web.Request) -> Seen:
        body = await request.read()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        seen = Seen(
            path=request.path,
            headers=dict(request.headers),
            body=body,
            payload=payload,
            at=time.monotonic(),
        )
        self.calls.append(seen)
        return seen

    def _scripted(self) -> web.Response | None:
        if not self._script:
            return None
        answer = self._script.popleft()
        if isinstance(answer.body, str) or answer.body is None:
            return web.Response(
                status=answer.status, text=answer.body or "", headers=answer.headers
            )
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)

    def _accepted(self, payload: dict[str, Any]) -> None:
        self.posted.append(payload)
        if self.on_post is not None:
            self.on_post(payload)

    async def _webhook(self, request: web.Request) -> web.Response:
        seen = await self._record(request)
        scripted = self._scripted()
        if scripted is not None:
            return scripted
        if request.path != WEBHOOK_PATH:
            return web.Response(status=404, text="no_service")
        if seen.payload is None:
            return web.Response(status=400, text="invalid_payload")
        if block_problems(seen.payload):
            return web.Response(status=400, text="invalid_blocks")
        self._accepted(seen.payload)
        return web.Response(text="ok")

    async def _post_message(self, request: web.Request) -> web.Response:
        seen = await self._record(request)
        scripted = self._scripted()
        if scripted is not None:
            return scripted
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        payload = seen.payload
        if not isinstance(payload, dict):
            return web.json_response({"ok": False, "error": "invalid_json"})
        if payload.get("channel") != CHANNEL:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        if block_problems(payload):
            return web.json_response({"ok": False, "error": "invalid_blocks"})
        self._ts += 1
        ts = f"1700000000.{self._ts:06d}"
        self._accepted(payload)
        message = {"type": "message", "text": payload.get("text", ""), "ts": ts}
        if "thread_ts" in payload:
            message["thread_ts"] = payload["thread_ts"]
        return web.json_response({"ok": True, "channel": CHANNEL, "ts": ts, "message": message})
