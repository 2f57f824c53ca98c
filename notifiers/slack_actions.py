"""Approve or reject a containment from Slack: the buttons' clicks, heard over Socket Mode.

`credwatch serve` runs `SlackDecisions.listen` when `[notifiers.slack]` names an app-level token
(`app_token_env`): a websocket Slack opens to us, so no inbound URL is needed. Only the users
in the allow-list (`deciders`, or members of the user group `decider_group`) may decide; anyone
else gets a message only they see. A decision is applied once (monitor.approvals): a second
click, or one after a decision made with the CLI, changes nothing and says who decided.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from monitor.decisions import Decider, DecisionRequest, DecisionResult, Ruling
from monitor.settings import SettingError, secret_from_env
from notifiers import slack_buttons as buttons
from notifiers.render import clean

log = logging.getLogger(__name__)

GROUP_TTL = 60.0  # seconds a user group's member list is trusted
RECONNECT_MAX = 300.0  # longest wait between two Socket Mode connection attempts
_KEPT_MESSAGES = 200  # messages whose blocks are kept while their reject dialog is open
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


class SlackDecisions:
    """The Socket Mode app that turns Approve / Reject clicks into decisions."""

    def __init__(
        self,
        *,
        token: str,
        app_token: str,
        key: bytes,
        deciders: frozenset[str] = frozenset(),
        decider_group: str | None = None,
        api_url: str = "https://slack.com/api",
    ) -> None:
        self._token = token
        self._app_token = app_token
        self._key = key
        self._deciders = deciders
        self._group = decider_group
        self._base_url = api_url.rstrip("/") + "/"
        self._members: frozenset[str] = frozenset()
        self._members_at = float("-inf")
        self._messages: OrderedDict[tuple[str, str], list[dict[str, Any]]] = OrderedDict()

    @classmethod
    def configure(
        cls,
        *,
        section: str,
        app_token_env: str | None,
        deciders: Sequence[str],
        decider_group: str | None,
        token: str | None,
        api_url: str,
        env: Mapping[str, str],
    ) -> SlackDecisions | None:
        """The buttons' app when `app_token_env` is set (bot mode only), with who may decide;
        None without it. The bot token signs the buttons' values."""
        if app_token_env is None:
            if deciders or decider_group:
                raise SettingError(section, "app_token_env", "deciders need an app-level token")
            return None
        if token is None:
            raise SettingError(section, "app_token_env", "buttons need bot mode (token_env)")
        if not deciders and decider_group is None:
            raise SettingError(section, "deciders", "name who may decide (or set decider_group)")
        for user in deciders:
            if not _USER_ID.fullmatch(user):
                raise SettingError(section, "deciders", f"{clean(user, 40)!r} is not a user id")
        app_token = secret_from_env(section, "app_token_env", app_token_env, env)
        if not app_token.startswith("xapp-"):
            raise SettingError(section, "app_token_env", "must hold an app-level token (xapp-…)")
        return cls(
            token=token,
            app_token=app_token,
            key=token.encode(),
            deciders=frozenset(deciders),
            decider_group=decider_group,
            api_url=api_url,
        )

    def __repr__(self) -> str:
        return f"SlackDecisions(deciders={sorted(self._deciders)!r}, group={self._group!r})"

    def client(self) -> AsyncWebClient:
        return AsyncWebClient(token=self._token, base_url=self._base_url)

    def app(self, decider: Decider, *, client: AsyncWebClient | None = None) -> AsyncApp:
        """The Bolt app with the button and dialog handlers (each acknowledges first)."""
        app = AsyncApp(
            client=client or self.client(),  # holds the bot token
            request_verification_enabled=False,  # Socket Mode: Slack's own websocket, no signature
        )

        @app.action(buttons.APPROVE)
        async def approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            await self._clicked(body, client, decider, reject=False)

        @app.action(buttons.REJECT)
        async def reject(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            await self._clicked(body, client, decider, reject=True)

        @app.view(buttons.REJECT_VIEW)
        async def rejected(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            await self._reject_submitted(body, client, decider)

        return app

    async def listen(self, decider: Decider) -> None:
        """Hold a Socket Mode connection until cancelled; a failed connection is tried again."""
        app = self.app(decider)
        wait = 1.0
        while True:
            handler = AsyncSocketModeHandler(app, self._app_token, web_client=app.client)
            try:
                await handler.connect_async()  # type: ignore[no-untyped-call]
            except (SlackClientError, OSError) as exc:
                await handler.close_async()  # type: ignore[no-untyped-call]
                log.error(
                    "slack socket mode connection failed, retrying",
                    extra={"error": _error(exc), "retry_in": wait},
                )
                await asyncio.sleep(wait)
                wait = min(wait * 2, RECONNECT_MAX)
                continue
            log.info("slack socket mode connected: approvals can be decided in slack")
            try:
                await asyncio.Event().wait()  # the client reconnects by itself from here
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]

    # -- handlers --------------------------------------------------------------------------

    async def _clicked(
        self, body: dict[str, Any], client: AsyncWebClient, decider: Decider, *, reject: bool
    ) -> None:
        user, channel, ts = _user(body), _channel(body), _ts(body)
        action: dict[str, Any] = next(iter(body.get("actions") or []), {})
        exposure_id = buttons.verify(self._key, action.get("value"))
        if not await self._may_decide(body, client):
            return
        if exposure_id is None:
            await _tell(
                client, channel, user, "This button was not signed by credwatch; nothing done."
            )
            return
        if reject:
            before = await self._decided(decider, exposure_id, channel, user)
            if before is not None:  # decided already: no dialog, say by whom
                await _tell(client, channel, user, buttons.outcome_text(before, user))
                return
            self._keep(channel, ts, (body.get("message") or {}).get("blocks") or [])
            view = buttons.reject_view(exposure_id, str(action.get("value")), channel, ts)
            try:
                await client.views_open(trigger_id=body.get("trigger_id"), view=view)
            except SlackApiError as exc:
                log.warning("slack views.open failed", extra={"error": _error(exc)})
                await _tell(
                    client,
                    channel,
                    user,
                    f"The reject dialog could not open ({_error(exc)}); nothing done. "
                    f"`credwatch reject {exposure_id} --reason TEXT` does the same.",
                )
            return
        blocks = (body.get("message") or {}).get("blocks") or []
        await self._decide(body, client, decider, exposure_id, (channel, ts), blocks, reject=False)

    @staticmethod
    async def _decided(
        decider: Decider, exposure_id: int, channel: str, user: str
    ) -> DecisionResult | None:
        try:
            return await decider.decided(exposure_id)
        except Exception as exc:  # unknown: let the dialog open, the decision itself will tell
            log.warning(
                "slack decision state unknown",
                extra={"exposure_id": exposure_id, "error": type(exc).__name__},
            )
            return None

    async def _reject_submitted(
        self, body: dict[str, Any], client: AsyncWebClient, decider: Decider
    ) -> None:
        view = body.get("view") or {}
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        channel, ts = str(meta.get("channel") or ""), str(meta.get("ts") or "")
        exposure_id = buttons.verify(self._key, meta.get("value"))
        if not await self._may_decide(body, client, channel=channel):
            return
        if exposure_id is None:
            await _tell(client, channel, _user(body), "This dialog was not opened by credwatch.")
            return
        values = ((view.get("state") or {}).get("values") or {}).get(buttons.REASON) or {}
        reason = clean(str((values.get(buttons.REASON) or {}).get("value") or ""), 500)
        blocks = self._messages.pop((channel, ts), [])
        await self._decide(
            body, client, decider, exposure_id, (channel, ts), blocks, reject=True, reason=reason
        )

    async def _decide(
        self,
        body: dict[str, Any],
        client: AsyncWebClient,
        decider: Decider,
        exposure_id: int,
        message: tuple[str, str],
        blocks: list[dict[str, Any]],
        *,
        reject: bool,
        reason: str = "",
    ) -> None:
        user, (channel, ts) = _user(body), message
        request = DecisionRequest(
            exposure_id=exposure_id, reject=reject, decided_by=_who(body), reason=reason
        )
        try:
            result = await decider.decide(request)
        except Exception as exc:  # the store is down: say so, decide nothing
            log.error(
                "slack decision not recorded",
                extra={"exposure_id": exposure_id, "error": type(exc).__name__},
            )
            await _tell(client, channel, user, "The decision could not be recorded; try again.")
            return
        text = buttons.outcome_text(result, user)
        if result.ruling not in (Ruling.APPROVED, Ruling.REJECTED):
            await _tell(client, channel, user, text)
            return
        log.info(
            "slack decision",
            extra={
                "exposure_id": exposure_id,
                "decision": result.decision,
                "by": request.decided_by,
            },
        )
        await self._update(client, channel, ts, blocks, text, result)

    async def _update(
        self,
        client: AsyncWebClient,
        channel: str,
        ts: str,
        blocks: list[dict[str, Any]],
        text: str,
        result: DecisionResult,
    ) -> None:
        """The approval request rewritten in place: the buttons give way to the outcome. When
        its blocks are not known here (the dialog was answered to another instance), the
        outcome is posted in its thread instead."""
        fallback = f"Containment {result.decision} by {clean(result.decided_by, 200)}"
        try:
            if blocks:
                await client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=fallback,
                    blocks=buttons.decided_blocks(blocks, text),
                )
            else:
                await client.chat_postMessage(
                    channel=channel,
                    thread_ts=ts,
                    text=fallback,
                    blocks=buttons.decided_blocks([], text),
                )
        except SlackApiError as exc:  # the decision stands; only the message is not updated
            log.warning("slack decision message failed", extra={"error": _error(exc)})

    # -- who may decide --------------------------------------------------------------------

    async def _may_decide(
        self, body: dict[str, Any], client: AsyncWebClient, *, channel: str | None = None
    ) -> bool:
        user = _user(body)
        if user in self._deciders or await self._in_group(user, client):
            return True
        log.warning("slack decision refused: user not allowed", extra={"user": user})
        await _tell(
            client,
            channel if channel is not None else _channel(body),
            user,
            "You are not allowed to approve or reject containments; nothing done.",
        )
        return False

    async def _in_group(self, user: str, client: AsyncWebClient) -> bool:
        if self._group is None or not user:
            return False
        if time.monotonic() - self._members_at > GROUP_TTL:
            try:
                answer = await client.usergroups_users_list(usergroup=self._group)
            except SlackApiError as exc:  # unknown: refuse, never allow by default
                log.warning("slack usergroups.users.list failed", extra={"error": _error(exc)})
                return False
            self._members = frozenset(str(u) for u in answer.get("users") or [])
            self._members_at = time.monotonic()
        return user in self._members

    def _keep(self, channel: str, ts: str, blocks: list[dict[str, Any]]) -> None:
        self._messages[(channel, ts)] = blocks
        while len(self._messages) > _KEPT_MESSAGES:
            self._messages.popitem(last=False)


async def _tell(client: AsyncWebClient, channel: str, user: str, text: str) -> None:
    """A message only `user` sees; a failure is logged (the click was already answered)."""
    if not channel or not user:
        return
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        log.warning("slack chat.postEphemeral failed", extra={"error": _error(exc)})


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _who(body: dict[str, Any]) -> str:
    """The decider as the audit trail names them: `slack:U123 (jdoe)`."""
    user = body.get("user") or {}
    name = clean(str(user.get("username") or user.get("name") or ""), 80)
    return f"slack:{_user(body)}" + (f" ({name})" if name else "")


def _channel(body: dict[str, Any]) -> str:
    return str((body.get("channel") or {}).get("id") or "")


def _ts(body: dict[str, Any]) -> str:
    message = body.get("message") or {}
    return str(message.get("ts") or (body.get("container") or {}).get("message_ts") or "")


def _error(exc: BaseException) -> str:
    """Slack's error code (`invalid_auth`, ...) or the exception's class: never a token."""
    if isinstance(exc, SlackApiError):
        return clean(str(exc.response.get("error") or "unknown_error"), 80)
    return type(exc).__name__
