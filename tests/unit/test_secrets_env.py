"""Secrets from the environment or from `*_FILE` files; DSNs redacted whatever the password holds."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from monitor.config import hmac_key
from monitor.errors import ConfigError
from monitor.settings import env_or_file, secret_from_env
from monitor.store.db import redact

KEY = "k" * 40


@pytest.mark.parametrize("char", ["@", "/", "#", ":", "?", "%", "@/#:?%"])
def test_dsn_redaction_keeps_only_scheme_user_host_port_database(char: str) -> None:
    password = f"pa{char}ss{char}w0rd"
    for written in (password, urllib.parse.quote(password, safe="")):
        dsn = f"postgresql://credwatch:{written}@db.example:5432/credwatch?sslmode=require"
        shown = redact(dsn)
        assert shown == "postgresql://credwatch@db.example:5432/credwatch"
        assert "ss" not in shown.replace("postgresql", "")
        assert "w0rd" not in shown


def test_keyword_dsn_drops_the_password() -> None:
    assert redact("host=db user=u password=s3cr@t dbname=x") == "host=db user=u dbname=x"


def test_secret_from_a_file_stripped(tmp_path: Path) -> None:
    f = tmp_path / "key"
    f.write_text(KEY + "\n")
    f.chmod(0o600)
    assert hmac_key({"CREDWATCH_HMAC_KEY_FILE": str(f)}) == KEY.encode()
    assert secret_from_env("notifiers.slack", "webhook_url_env", "W", {"W_FILE": str(f)}) == KEY


def test_environment_secret_is_stripped() -> None:
    assert hmac_key({"CREDWATCH_HMAC_KEY": f" {KEY} \n"}) == KEY.encode()
    assert env_or_file("X", {"X": " v "}) == "v"


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "key"
    f.write_text(KEY)
    f.chmod(0o644)
    with pytest.raises(ConfigError, match=r"CREDWATCH_HMAC_KEY_FILE: .* readable by other users"):
        hmac_key({"CREDWATCH_HMAC_KEY_FILE": str(f)})


def test_missing_key_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        hmac_key({"CREDWATCH_HMAC_KEY_FILE": str(tmp_path / "nope")})


def test_database_password_comes_apart_from_the_dsn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.store.db import resolve_target

    f = tmp_path / "db_password"
    f.write_text("p@ss/w#rd:?%\n")
    f.chmod(0o600)
    monkeypatch.setenv("CREDWATCH_DSN", "postgresql://credwatch@db:5432/credwatch")
    monkeypatch.setenv("CREDWATCH_DB_PASSWORD_FILE", str(f))
    monkeypatch.delenv("CREDWATCH_DB_PASSWORD", raising=False)
    target = resolve_target()
    assert target.password == "p@ss/w#rd:?%"
    assert target.dsn == "postgresql://credwatch@db:5432/credwatch"
