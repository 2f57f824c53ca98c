"""`credwatch doctor` against real PostgreSQL, the fake Slack and the fake Keycloak: a good
deployment passes, each broken piece is reported with its cause, nothing is changed and no
secret is printed."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import stat
import sys
from pathlib import Path
from typing import Any

import asyncpg

from monitor import keys
from monitor.store.store import Store
from tests.conftest import TEST_KEY, with_database
from tests.servers.idp import FakeIdP, keycloak_app, serve
from tests.servers.slack import CHANNEL, TOKEN, SlackServer

KC_SECRET = "kc-secret"  # what the fake Keycloak accepts
OTHER_KEY = "o" * 48


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def deployment(
    tmp: Path, *, slack_api: str, keycloak: str, metrics_port: int, drop_mode: int = 0o750
) -> Path:
    drop = tmp / "drop"
    drop.mkdir(exist_ok=True)
    drop.chmod(drop_mode)
    cfg = tmp / "credwatch.toml"
    cfg.write_text(
        f"""
[organisation]
name = "Example"
domains = ["example.org"]

[serve]
watch_dir = "drop"
metrics_port = {metrics_port}

[notifiers.slack]
token_env = "SLACK_TOKEN"
channel = "{CHANNEL}"
api_url = "{slack_api}"
attempts = 1

[responders.keycloak]
base_url = "{keycloak}"
realm = "partners"
client_id = "credwatch"
client_secret_env = "KC_SECRET"
max_retries = 0
""",
        encoding="utf-8",
    )
    return cfg


def rar_tool(tmp: Path) -> Path:
    """A folder holding an `unrar` that answers rarfile's probe the way the real one does."""
    folder = tmp / "bin"
    folder.mkdir(exist_ok=True)
    tool = folder / "unrar"
    tool.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    tool.chmod(stat.S_IRWXU)
    return folder


async def doctor(
    cfg: Path, *args: str, dsn: str, home: Path, path: Path, **env: str
) -> tuple[int, dict[str, Any], str]:
    variables = dict(
        os.environ,
        CREDWATCH_DSN=dsn,
        CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
        CREDWATCH_HOME=str(home),
        SLACK_TOKEN=TOKEN,
        KC_SECRET=KC_SECRET,
        PATH=str(path),
    )
    variables.pop("CREDWATCH_METRICS_PORT", None)
    variables.pop("CREDWATCH_METRICS_HOST", None)
    variables.update(env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor.cli", "doctor", "--json", "--config", str(cfg), *args,
        env=variables, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, json.loads(out), err.decode()


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


async def record_key(dsn: str, key: bytes) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    assert pool is not None
    try:
        await keys.verify(Store(pool), keys.KeyRing(current=key))
    finally:
        await pool.close()


async def test_a_good_deployment_passes_and_nothing_changes(dsn: str, tmp_path: Path) -> None:
    await record_key(dsn, TEST_KEY)
    idp = FakeIdP()
    async with SlackServer() as slack, serve(keycloak_app(idp)) as kc:
        cfg = deployment(tmp_path, slack_api=slack.api_url, keycloak=kc, metrics_port=free_port())
        code, report, err = await doctor(
            cfg, "--send-test", dsn=dsn, home=tmp_path, path=rar_tool(tmp_path)
        )
        posted = list(slack.posted)
    checks = by_name(report)
    assert code == 0, (report, err)
    assert report["ok"] is True
    assert all(c["status"] == "ok" for c in report["checks"])
    for name in (
        "config",
        "hmac key",
        "database",
        "key check",
        "notifiers.slack",
        "responders.keycloak",
        "archive rar",
        "archive 7z",
        "screen engine",
        "metrics address",
        "drop folder",
    ):
        assert name in checks, name
    assert "no such user" in checks["responders.keycloak"]["detail"]
    assert "test message accepted" in checks["notifiers.slack"]["detail"]
    assert len(posted) == 1 and "doctor" in json.dumps(posted[0])
    # Read-only towards the identity provider: one token fetch and lookups, nothing else.
    assert {c.method for c in idp.calls} <= {"GET", "POST"}
    assert all(c.method == "GET" or c.path.endswith("/token") for c in idp.calls)
    assert any(c.path.endswith("/users") for c in idp.calls)
    text = json.dumps(report) + err
    for secret in (TEST_KEY.decode(), TOKEN, KC_SECRET):
        assert secret not in text


async def test_without_send_test_no_message_is_sent(dsn: str, tmp_path: Path) -> None:
    async with SlackServer() as slack, serve(keycloak_app(FakeIdP())) as kc:
        cfg = deployment(tmp_path, slack_api=slack.api_url, keycloak=kc, metrics_port=free_port())
        code, report, err = await doctor(cfg, dsn=dsn, home=tmp_path, path=rar_tool(tmp_path))
        assert slack.calls == []
    assert code == 0, (report, err)
    assert "no message sent" in by_name(report)["notifiers.slack"]["detail"]


async def test_a_fresh_database_is_not_given_a_key(dsn: str, tmp_path: Path) -> None:
    async with SlackServer() as slack, serve(keycloak_app(FakeIdP())) as kc:
        cfg = deployment(tmp_path, slack_api=slack.api_url, keycloak=kc, metrics_port=free_port())
        code, report, _ = await doctor(cfg, dsn=dsn, home=tmp_path, path=rar_tool(tmp_path))
    assert code == 0
    assert "records no key yet" in by_name(report)["key check"]["detail"]
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    assert pool is not None
    try:
        assert await Store(pool).fingerprint_keys() == []
    finally:
        await pool.close()


async def test_each_broken_piece_is_reported_with_its_cause(
    dsn: str, pg_server: str, tmp_path: Path
) -> None:
    await record_key(dsn, TEST_KEY)
    empty = f"cw_doctor_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(pg_server)
    await admin.execute(f'CREATE DATABASE "{empty}"')
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = int(taken.getsockname()[1])
    try:
        async with SlackServer() as slack, serve(keycloak_app(FakeIdP())) as kc:
            cfg = deployment(
                tmp_path, slack_api=slack.api_url, keycloak=kc, metrics_port=port, drop_mode=0o777
            )
            common: dict[str, Any] = {"home": tmp_path, "path": tmp_path / "nothing"}
            wrong, unmigrated, down = await asyncio.gather(
                doctor(
                    cfg,
                    "--send-test",
                    dsn=dsn,
                    SLACK_TOKEN="xoxb-wrong-token-0000",
                    KC_SECRET="wrong-kc-secret",
                    CREDWATCH_HMAC_KEY=OTHER_KEY,
                    **common,
                ),
                doctor(cfg, dsn=with_database(pg_server, empty), **common),
                doctor(cfg, dsn="postgresql://credwatch:Db-Pa55@127.0.0.1:1/x", **common),
            )
            conn = await asyncpg.connect(with_database(pg_server, empty))
            try:  # doctor migrated nothing: the database is still empty
                assert await conn.fetchval("SELECT to_regclass('schema_migrations')") is None
            finally:
                await conn.close()
    finally:
        taken.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)')
        await admin.close()

    code, report, err = wrong
    checks = by_name(report)
    assert code == 2 and report["ok"] is False, err
    assert checks["notifiers.slack"]["status"] == "failed"
    assert "invalid_auth" in checks["notifiers.slack"]["detail"]
    assert checks["responders.keycloak"]["status"] == "failed"
    assert "401" in checks["responders.keycloak"]["detail"] or "unauthor" in (
        checks["responders.keycloak"]["detail"].lower()
    )
    assert checks["key check"]["status"] == "failed"
    assert "not the key that made" in checks["key check"]["detail"]
    assert checks["archive rar"]["status"] == "warning"
    assert "apt-get install" in checks["archive rar"]["fix"]
    assert checks["metrics address"]["status"] == "failed"
    assert f"127.0.0.1:{port}" in checks["metrics address"]["detail"]
    assert checks["drop folder"]["status"] == "warning"
    assert "chmod o-w" in checks["drop folder"]["fix"]
    text = json.dumps(report) + err
    for secret in (OTHER_KEY, "xoxb-wrong-token-0000", "wrong-kc-secret"):
        assert secret not in text

    code, report, _ = unmigrated
    assert code == 2
    database = by_name(report)["database"]
    assert database["status"] == "failed" and "no credwatch schema" in database["detail"]
    assert database["fix"] == "run `credwatch db migrate`"

    code, report, err = down
    assert code == 2
    database = by_name(report)["database"]
    assert database["status"] == "failed" and "cannot connect" in database["detail"]
    assert "Db-Pa55" not in json.dumps(report) + err


async def test_a_missing_secret_and_a_bad_section_name_their_cause(
    dsn: str, tmp_path: Path
) -> None:
    cfg = deployment(
        tmp_path, slack_api="http://127.0.0.1:1/api", keycloak="http://127.0.0.1:1", metrics_port=0
    )
    cfg.write_text(
        cfg.read_text(encoding="utf-8") + '\n[feeds.hipb]\napi_key_env = "X"\n', encoding="utf-8"
    )
    code, report, _ = await doctor(
        cfg, dsn=dsn, home=tmp_path, path=rar_tool(tmp_path), KC_SECRET=""
    )
    checks = by_name(report)
    assert code == 2
    assert checks["feeds.hipb"]["status"] == "failed"
    assert "unknown plug-in" in checks["feeds.hipb"]["detail"]
    assert "hibp" in checks["feeds.hipb"]["detail"]
    assert checks["responders.keycloak"]["status"] == "failed"
    assert "KC_SECRET is not set" in checks["responders.keycloak"]["detail"]
    assert "credwatch.toml" in checks["responders.keycloak"]["detail"]


async def test_a_broken_config_file_is_one_failed_line(dsn: str, tmp_path: Path) -> None:
    cfg = tmp_path / "credwatch.toml"
    cfg.write_text("[organisation]\nname = 'x'\ncolour = 'blue'\n", encoding="utf-8")
    code, report, _ = await doctor(cfg, dsn=dsn, home=tmp_path, path=rar_tool(tmp_path))
    config = by_name(report)["config"]
    assert code == 2
    assert config["status"] == "failed"
    assert "[organisation] colour: unknown key" in config["detail"]
