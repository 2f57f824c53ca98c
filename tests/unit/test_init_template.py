"""`credwatch init`'s template: it loads as written, and every commented block loads as-is once
uncommented (its section validated by the core or by its plug-in)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from monitor import plugins
from monitor.config import load_config
from monitor.example_config import EXAMPLE
from monitor.plugins import Family
from monitor.policy import PolicyConfig

_HEADER = re.compile(r"^\[[^\]]+\]")


def _toml_line(text: str) -> bool:
    """A commented line that is TOML (a table header or a key), not prose."""
    if _HEADER.match(text):
        return True
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    return "=" in text


def commented_blocks(template: str) -> list[list[int]]:
    """Line numbers of each commented block: a header with its keys, or a run of keys."""
    lines = template.splitlines()
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        body = line[2:] if line.startswith("# ") else None
        if body is None or not _toml_line(body):
            if current:
                blocks.append(current)
            current = []
            continue
        if _HEADER.match(body) and current:
            blocks.append(current)
            current = []
        current.append(i)
    if current:
        blocks.append(current)
    return blocks


def uncomment(template: str, block: list[int]) -> str:
    lines = template.splitlines()
    for i in block:
        lines[i] = lines[i][2:]
    return "\n".join(lines) + "\n"


ENV = {
    "CREDWATCH_SLACK_WEBHOOK": "https://hooks.slack.com/services/T0/B0/x",
    "CREDWATCH_SMTP_PASSWORD": "smtp-password",
}
BLOCKS = commented_blocks(EXAMPLE)


def test_the_template_loads_as_written(tmp_path: Path) -> None:
    (tmp_path / "credwatch.toml").write_text(EXAMPLE)
    load_config(tmp_path / "credwatch.toml")


def test_blocks_were_found() -> None:
    headers = {EXAMPLE.splitlines()[b[0]][2:].split("#")[0].strip() for b in BLOCKS}
    assert {"[notifiers.slack]", "[notifiers.email]", "[serve]", "[policy]"} <= headers


@pytest.mark.parametrize("block", BLOCKS, ids=[str(b[0] + 1) for b in BLOCKS])
def test_each_commented_block_loads_once_uncommented(tmp_path: Path, block: list[int]) -> None:
    (tmp_path / "accounts.csv").write_text("login,partner,idp,idp_user_id\n")
    path = tmp_path / "credwatch.toml"
    path.write_text(uncomment(EXAMPLE, block))
    config = load_config(path)
    PolicyConfig.from_mapping(config.policy, file=path)
    for name, section in config.notifiers.items():
        plugins.build(Family.NOTIFIERS, name, section, ENV)
    for name, section in config.feeds.items():
        plugins.build(Family.FEEDS, name, section, ENV)
    for name, section in config.responders.items():
        plugins.build(Family.RESPONDERS, name, section, ENV)
