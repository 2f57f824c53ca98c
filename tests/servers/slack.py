"""A local aiohttp server that answers like Slack, for tests: incoming webhooks, chat.postMessage,
the Web API methods interactivity uses (auth.test, chat.update, chat.postEphemeral, views.open,
usergroups.users.list) and Socket Mode (apps.connections.open and its websocket)."""

from __future__ import annotations

import asyncio
import itertools
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
APP_TOKEN = "xapp-1-A0TEST0000-0000000000000-test-app-token"
TEAM_ID = "T0TEST0000"
BOT_USER = "U0CREDBOT"
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
        if kind == "actions":
            problems.extend(f"block {i}: {p}" for p in _action_problems(block))
    if len(json.dumps(blocks)) > 13000:
        problems.append("msg_blocks_too_long")
    return problems


def _action_problems(block: dict[str, Any]) -> list[str]:
    """Block Kit limits of an actions block: 25 elements, button text 75, value 2000, action_id
    255, unique action ids; a confirm dialog's title 100, text 300, buttons 30."""
    elements = block.get("elements") or []
    problems = [] if 0 < len(elements) <= 25 else ["actions elements"]
    ids = [e.get("action_id") for e in elements]
    if len(set(ids)) != len(ids):
        problems.append("duplicate action_id")
    for e in elements:
        if e.get("type") != "button":
            continue
        if len(e["text"]["text"]) > 75 or len(e.get("value", "")) > 2000:
            problems.append("button text or value too long")
        if len(e.get("action_id", "")) > 255 or e.get("style") not in (None, "primary", "danger"):
            problems.append("button action_id or style")
        confirm = e.get("confirm")
        if confirm is not None and (
            len(confirm["title"]["text"]) > 100
            or len(confirm["text"]["text"]) > 300
            or len(confirm["confirm"]["text"]) > 30
            or len(confirm["deny"]["text"]) > 30
        ):
            problems.append("confirm dialog too long")
    return problems


def view_problems(view: Any) -> list[str]:
    """What views.open refuses in a modal: title 24, submit/close 24, private_metadata 3000."""
    if not isinstance(view, dict) or view.get("type") != "modal":
        return ["not a modal"]
    problems = []
    for key in ("title", "submit", "close"):
        part = view.get(key)
        if part is not None and len(part.get("text", "")) > 24:
            problems.append(f"{key} longer than 24")
    if len(view.get("private_metadata", "")) > 3000:
        problems.append("private_metadata longer than 3000")
    if not view.get("blocks") or len(view["blocks"]) > 100:
        problems.append("blocks")
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
        self.messages: dict[str, dict[str, Any]] = {}  # ts → the message as it now stands
        self.ephemeral: list[dict[str, Any]] = []  # chat.postEphemeral bodies accepted
        self.views: list[dict[str, Any]] = []  # modals opened (views.open)
        self.trigger_ids: set[str] = set()  # trigger ids views.open accepts (from a click)
        self.usergroups: dict[str, list[str]] = {}  # user group id → member user ids
        self.acks: list[dict[str, Any]] = []  # Socket Mode acknowledgements received
        self.connections = 0  # Socket Mode websockets opened
        self._envelopes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()

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
        app.router.add_post("/api/auth.test", self._auth_test)
        app.router.add_post("/api/chat.update", self._chat_update)
        app.router.add_post("/api/chat.postEphemeral", self._post_ephemeral)
        app.router.add_post("/api/views.open", self._views_open)
        app.router.add_get("/api/usergroups.users.list", self._usergroup_users)
        app.router.add_post("/api/apps.connections.open", self._connections_open)
        app.router.add_get("/link", self._socket)
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
        self.messages[ts] = {**message, "blocks": payload.get("blocks") or []}
        return await self._answered(
            web.json_response({"ok": True, "channel": CHANNEL, "ts": ts, "message": message})
        )

    # -- the Web API methods of interactivity ------------------------------------------------

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Until `predicate()` holds after a request (a click is answered before it is handled)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _answered(self, response: web.Response) -> web.Response:
        async with self._changed:
            self._changed.notify_all()
        return response

    def _api(self, seen: Seen, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        """The JSON body of a bot-token call, or Slack's answer refusing it."""
        scripted = self._scripted()
        if scripted is not None:
            return {}, scripted
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return {}, web.json_response({"ok": False, "error": "invalid_auth"})
        if not isinstance(seen.payload, dict):
            return {}, web.json_response({"ok": False, "error": "invalid_json"})
        return seen.payload, None

    async def _auth_test(self, request: web.Request) -> web.Response:
        await self._record(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return await self._answered(web.json_response({"ok": False, "error": "invalid_auth"}))
        return await self._answered(
            web.json_response(
                {
                    "ok": True,
                    "url": "https://credwatch-test.slack.com/",
                    "team": "credwatch test",
                    "user": "credwatch",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER,
                    "bot_id": "B0CREDBOT",
                    "is_enterprise_install": False,
                }
            )
        )

    async def _chat_update(self, request: web.Request) -> web.Response:
        seen = await self._record(request)
        body, refused = self._api(seen, request)
        if refused is not None:
            return await self._answered(refused)
        if body.get("channel") != CHANNEL:
            answer = {"ok": False, "error": "channel_not_found"}
        elif body.get("ts") not in self.messages:
            answer = {"ok": False, "error": "message_not_found"}
        elif block_problems(body):
            answer = {"ok": False, "error": "invalid_blocks"}
        else:
            ts = body["ts"]
            self.messages[ts] = {
                **self.messages[ts],
                "text": body.get("text", ""),
                "blocks": body.get("blocks") or self.messages[ts]["blocks"],
                "edited": True,
            }
            answer = {"ok": True, "channel": CHANNEL, "ts": ts, "text": body.get("text", "")}
        return await self._answered(web.json_response(answer))

    async def _post_ephemeral(self, request: web.Request) -> web.Response:
        seen = await self._record(request)
        body, refused = self._api(seen, request)
        if refused is not None:
            return await self._answered(refused)
        if body.get("channel") != CHANNEL:
            return await self._answered(
                web.json_response({"ok": False, "error": "channel_not_found"})
            )
        if not body.get("user"):
            return await self._answered(
                web.json_response({"ok": False, "error": "user_not_in_channel"})
            )
        self.ephemeral.append(body)
        self._ts += 1
        return await self._answered(
            web.json_response({"ok": True, "message_ts": f"1700000000.{self._ts:06d}"})
        )

    async def _views_open(self, request: web.Request) -> web.Response:
        seen = await self._record(request)
        body, refused = self._api(seen, request)
        if refused is not None:
            return await self._answered(refused)
        if body.get("trigger_id") not in self.trigger_ids:
            answer: dict[str, Any] = {"ok": False, "error": "invalid_trigger_id"}
        elif view_problems(body.get("view")):
            answer = {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": view_problems(body.get("view"))},
            }
        else:
            self.trigger_ids.discard(body["trigger_id"])  # a trigger is used once
            view = {**body["view"], "id": f"V{next(self._ids):08d}", "team_id": TEAM_ID}
            self.views.append(view)
            answer = {"ok": True, "view": view}
        return await self._answered(web.json_response(answer))

    async def _usergroup_users(self, request: web.Request) -> web.Response:
        await self._record(request)
        scripted = self._scripted()
        if scripted is not None:
            return await self._answered(scripted)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return await self._answered(web.json_response({"ok": False, "error": "invalid_auth"}))
        group = request.query.get("usergroup", "")
        if group not in self.usergroups:
            return await self._answered(
                web.json_response({"ok": False, "error": "no_such_subteam"})
            )
        return await self._answered(
            web.json_response({"ok": True, "users": self.usergroups[group]})
        )

    # -- Socket Mode -------------------------------------------------------------------------

    async def _connections_open(self, request: web.Request) -> web.Response:
        await self._record(request)
        auth = request.headers.get("Authorization", "")
        if auth == f"Bearer {TOKEN}":
            return web.json_response({"ok": False, "error": "not_allowed_token_type"})
        if auth != f"Bearer {APP_TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self._port}/link"})

    def send_interactive(self, payload: dict[str, Any]) -> str:
        """Deliver an interactive payload (a click, a dialog submitted) to the connected app;
        returns its envelope id, which the app must acknowledge."""
        envelope_id = f"env-{next(self._ids)}"
        self._envelopes.put_nowait(
            {
                "envelope_id": envelope_id,
                "payload": payload,
                "type": "interactive",
                "accepts_response_payload": payload.get("type") == "view_submission",
            }
        )
        return envelope_id

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections += 1
        async with self._changed:
            self._changed.notify_all()
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
                "connection_info": {"app_id": "A0TEST0000"},
            }
        )

        async def send() -> None:
            while True:
                await ws.send_json(await self._envelopes.get())

        sender = asyncio.create_task(send())
        try:
            async for msg in ws:  # until the app closes the connection
                try:
                    data = json.loads(msg.data)
                except (TypeError, ValueError):
                    continue
                if isinstance(data, dict) and "envelope_id" in data:
                    self.acks.append(data)
                    async with self._changed:
                        self._changed.notify_all()
        finally:
            sender.cancel()
        return ws
