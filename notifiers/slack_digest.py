"""Block Kit for several alerts in one Slack message: a grouped alert or a digest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from monitor.notify import Alert
from notifiers import render

ROWS_MAX = 40  # one section per alert; the header and the overflow note use the other blocks
ROW_MAX = 600
BLOCKS_TEXT_MAX = 12000  # Slack refuses blocks over about 13,000 characters of JSON in all


def _row(alert: Alert) -> str:
    own = render.own_columns(alert)
    row = {
        c: render.mrkdwn_code(v) if c in own else render.mrkdwn_inert(v)
        for c, v in zip(render.DIGEST_COLUMNS, render.digest_row(alert), strict=True)
    }
    text = (
        f"*[{row['Severity']}]* {row['Event']}: {row['Kind']} of {row['Login']} "
        f"for {row['Host']}\npartner {row['Partner']}; infected {row['Infected']}; "
        f"done: {row['What was done']}; exposure {row['Exposure']}"
    )
    if row["To do"] != "-":
        text += f"\n*to do:* {row['To do']}"
    return render.fit_mrkdwn(text, ROW_MAX)


def slack_digest(alerts: Sequence[Alert]) -> dict[str, Any]:
    """`{"text": fallback, "blocks": [...]}`: a header, one line per alert, worst first."""
    ordered = render.ordered(alerts)
    title = render.cut(render.digest_subject(alerts, prefix="").strip(), render.SLACK_HEADER_MAX)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": False}}
    ]
    size = len(json.dumps(blocks))
    shown = 0
    for alert in ordered[:ROWS_MAX]:
        block = {"type": "section", "text": {"type": "mrkdwn", "text": _row(alert)}}
        cost = len(json.dumps(block)) + 2  # as Slack measures the blocks: their JSON
        if size + cost > BLOCKS_TEXT_MAX:
            break
        blocks.append(block)
        size += cost
        shown += 1
    if shown < len(ordered):
        more = (
            f"and {len(ordered) - shown} more: `credwatch status` and `credwatch export` list all"
        )
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {
        "text": render.fit_mrkdwn(render.mrkdwn_escape(title), render.SLACK_FALLBACK_MAX),
        "blocks": blocks,
    }
