"""The Approve / Reject buttons of a Slack approval request, their signed value, the reject
dialog and the message that replaces the buttons once decided (pure Block Kit, no I/O).

A button's value is `<exposure id>.<mac>`: an HMAC of the exposure id under a key only this
service holds (the bot token), so a value it did not sign is refused rather than acted on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from monitor.decisions import DecisionResult, Ruling
from monitor.notify import Alert
from notifiers.render import SLACK_BLOCKS_MAX, clean, cut, mrkdwn_escape

BLOCK_ID = "credwatch_decision"
APPROVE = "credwatch_approve"
REJECT = "credwatch_reject"
REJECT_VIEW = "credwatch_reject_reason"
REASON = "reason"
REASON_MAX = 500
# Block Kit limits: confirm title 100, confirm text 300, button text 75, modal title 24.
_CONFIRM_TEXT_MAX = 300


def sign(key: bytes, exposure_id: int) -> str:
    mac = hmac.new(key, f"credwatch-decision:{exposure_id}".encode(), hashlib.sha256)
    return f"{exposure_id}.{mac.hexdigest()[:32]}"


def verify(key: bytes, value: object) -> int | None:
    """The exposure id of a value this key signed, else None."""
    if not isinstance(value, str) or value.count(".") != 1:
        return None
    head, _ = value.split(".")
    if not head.isdigit() or len(head) > 18:
        return None
    exposure_id = int(head)
    return exposure_id if hmac.compare_digest(sign(key, exposure_id), value) else None


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def decision_block(alert: Alert, key: bytes) -> dict[str, Any]:
    """The actions block under an approval request: Approve (confirmed) and Reject (a dialog)."""
    exposure_id = alert.exposure.id
    value = sign(key, exposure_id)
    what = clean(alert.action_summary, 200) or "contain the leaked credential"
    head, tail = f"Exposure {exposure_id}: ", ". This runs now."
    room = _CONFIRM_TEXT_MAX - len(head) - len(tail)
    confirm = head + cut(mrkdwn_escape(what), room) + tail
    return {
        "type": "actions",
        "block_id": BLOCK_ID,
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE,
                "text": _plain("Approve"),
                "style": "primary",
                "value": value,
                "confirm": {
                    "title": _plain("Approve containment?"),
                    "text": {"type": "mrkdwn", "text": confirm},
                    "confirm": _plain("Approve"),
                    "deny": _plain("Cancel"),
                },
            },
            {
                "type": "button",
                "action_id": REJECT,
                "text": _plain("Reject…"),
                "style": "danger",
                "value": value,
            },
        ],
    }


def with_decision(blocks: list[dict[str, Any]], alert: Alert, key: bytes) -> list[dict[str, Any]]:
    """An approval request's blocks with the buttons last (within Slack's 50 blocks)."""
    return [*blocks[: SLACK_BLOCKS_MAX - 1], decision_block(alert, key)]


def reject_view(exposure_id: int, value: str, channel: str, ts: str) -> dict[str, Any]:
    """The dialog a Reject click opens: an optional reason, Reject or Cancel."""
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "title": _plain("Reject containment"),
        "submit": _plain("Reject"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"value": value, "channel": channel, "ts": ts}),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Exposure {exposure_id} will not be contained and is dismissed.",
                },
            },
            {
                "type": "input",
                "block_id": REASON,
                "optional": True,
                "label": _plain("Reason (kept in the audit trail)"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON,
                    "multiline": True,
                    "max_length": REASON_MAX,
                },
            },
        ],
    }


def _when(moment: datetime | None) -> str:
    return f" at {moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def outcome_text(result: DecisionResult, user_id: str) -> str:
    """The decision and what came of it, in mrkdwn (the reason is a human's text: escaped)."""
    reason = mrkdwn_escape(clean(result.reason, REASON_MAX))
    why = f": {reason}" if reason else ""
    outcome = mrkdwn_escape(clean(result.outcome, 1000))
    if result.ruling is Ruling.APPROVED:
        return f":white_check_mark: *Approved by <@{user_id}>*{_when(result.at)}. {outcome}"
    if result.ruling is Ruling.REJECTED:
        return f":no_entry_sign: *Rejected by <@{user_id}>*{_when(result.at)}{why}. {outcome}"
    if result.ruling is Ruling.ALREADY:
        who = mrkdwn_escape(clean(result.decided_by, 200))
        return (
            f"Already {result.decision or 'decided'} by {who}{_when(result.at)}{why}; "
            f"nothing done now. {outcome}"
        )
    return "Nothing waits for approval on this exposure; nothing done."


def decided_blocks(blocks: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The message's blocks with the buttons replaced by the decision."""
    kept = [b for b in blocks if b.get("block_id") != BLOCK_ID]
    return [*kept, {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, 3000)}}]
