"""credwatch.toml loading: the example template, defaults, types, ranges, checks and error texts."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from monitor import plugins
from monitor.config import Config, PartnerConfig, ScanConfig, ServeConfig, load_config
from monitor.config_sections import ScanSection
from monitor.errors import ConfigError
from monitor.example_config import EXAMPLE
from monitor.plugins import Family
from monitor.policy import Decision, MatchKind, PolicyConfig
from monitor.settings import SettingError
from monitor.types import Severity

ORG = '[organisation]\nname = "Acme"\ndomains = ["acme.example"]\n'


def write(tmp_path: Path, text: str, name: str = "credwatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    return message.removeprefix(f"{path}: ")


def _uncommented(template: str) -> str:
    """The template with every commented-out table and key switched on."""
    on = re.compile(r"^# (\[[^\]]+\].*|[A-Za-z_\"][^=]*= .*)$")
    return "\n".join(
        m.group(1) if (m := on.match(line)) else line for line in template.splitlines()
    )


# -- the template and the defaults -------------------------------------------------------------


def test_example_template_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, EXAMPLE))
    assert config.organisation == "France Travail"
    assert config.domains == ("francetravail.fr", "pole-emploi.fr")
    assert config.portals == ("https://portail-partenaire.francetravail.fr/kairos",)
    assert config.partners == (
        PartnerConfig(
            name="Organisme de formation, Isère",
            email_domains=("formation-isere.example",),
            security_contact="rssi@formation-isere.example",
        ),
    )
    assert config.account_logins == ("jdupont.of38", "m.martin@formation-isere.example")
    assert config.scan == ScanConfig() and config.serve == ServeConfig()


def test_example_template_with_every_commented_key_switched_on(tmp_path: Path) -> None:
    write(tmp_path, "login,partner,idp,idp_user_id\njdupont.of38,,okta,00u1\n", "accounts.csv")
    config = load_config(write(tmp_path, _uncommented(EXAMPLE)))
    assert config.accounts_file == tmp_path / "accounts.csv"
    assert config.scan.archive_passwords == ("infected",)
    assert config.serve.timezone == "Europe/Paris"
    assert config.serve.sources == (Path("/srv/dumps"),)
    assert set(config.notifiers) == {"console", "slack", "email"}
    policy = PolicyConfig.from_mapping(config.policy)
    assert policy.rules[MatchKind.LOGIN_ELSEWHERE][Severity.HIGH] is Decision.APPROVE
    assert policy.suppress == {
        "former.staff@formation-isere.example": "left in 2024, account deleted"
    }
    env = {
        "CREDWATCH_SLACK_WEBHOOK": "https://hooks.slack.com/services/T0/B0/x",
        "CREDWATCH_SMTP_PASSWORD": "synthetic",
    }
    built = plugins.build_enabled(Family.NOTIFIERS, config.notifiers, env)
    assert set(built) == {"console", "slack", "email"}


def test_defaults_are_unchanged(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[organisation]\nname = "Acme"\n'))
    assert (config.domains, config.portals, config.partners) == ((), (), ())
    assert (config.account_logins, config.accounts_file) == ((), None)
    assert config.scan == ScanConfig(
        workdir=None,
        archive_passwords=("infected", "123", "1234"),
        max_depth=4,
        max_member_size=4 << 30,
        max_total_size=64 << 30,
        max_ratio=200.0,
        max_line=1 << 20,
        workers=2,
    )
    assert config.serve == ServeConfig(
        nightly="30 2 * * *",
        timezone="UTC",
        sources=(),
        watch_dir=None,
        metrics_host="127.0.0.1",
        metrics_port=9185,
        hibp_interval_minutes=360,
        outbox_interval_seconds=1.0,
        settle_seconds=1.0,
    )
    assert dict(config.policy) == {}
    assert (dict(config.notifiers), dict(config.responders), dict(config.feeds)) == ({}, {}, {})
    assert PolicyConfig.from_mapping(config.policy) == PolicyConfig()


def test_every_key_is_read_with_its_python_type(tmp_path: Path) -> None:
    text = ORG + (
        '[scan]\nworkdir = "tmp"\narchive_passwords = [" infected ", "x"]\nmax_depth = 0\n'
        "max_member_size = 10\nmax_total_size = 20\nmax_ratio = 50\nmax_line = 30\nworkers = 8\n"
        '[serve]\nnightly = "0 3 * * 1"\ntimezone = "Europe/Paris"\nsources = ["in", "/abs"]\n'
        'watch_dir = "~/drop"\nmetrics_host = "0.0.0.0"\nmetrics_port = 0\n'
        "hibp_interval_minutes = 60\noutbox_interval_seconds = 2\nsettle_seconds = 0.5\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.scan == ScanConfig(
        workdir=tmp_path / "tmp",
        archive_passwords=("infected", "x"),
        max_depth=0,
        max_member_size=10,
        max_total_size=20,
        max_ratio=50.0,
        max_line=30,
        workers=8,
    )
    assert isinstance(config.scan.max_ratio, float)
    assert config.serve == ServeConfig(
        nightly="0 3 * * 1",
        timezone="Europe/Paris",
        sources=(tmp_path / "in", Path("/abs")),
        watch_dir=Path("~/drop").expanduser(),
        metrics_host="0.0.0.0",
        metrics_port=0,
        hibp_interval_minutes=60,
        outbox_interval_seconds=2.0,
        settle_seconds=0.5,
    )
    assert isinstance(config.serve.outbox_interval_seconds, float)


def test_empty_values_keep_their_defaults(tmp_path: Path) -> None:
    text = ORG + '[scan]\nworkers = 0\n[serve]\nnightly = ""\ntimezone = ""\nmetrics_host = ""\n'
    config = load_config(write(tmp_path, text))
    assert config.scan.workers == 1
    assert (config.serve.nightly, config.serve.timezone) == ("30 2 * * *", "UTC")
    assert config.serve.metrics_host == "127.0.0.1"
    no_passwords = load_config(write(tmp_path, ORG + "[scan]\narchive_passwords = []\n"))
    assert no_passwords.scan.archive_passwords == ()


def test_partners_list(tmp_path: Path) -> None:
    text = ORG + (
        '[[partners]]\nname = "One"\nemail_domains = ["one.example", "one-bis.example"]\n'
        '[[partners]]\nname = "Two"\nsecurity_contact = "soc@two.example"\n'
    )
    config = load_config(write(tmp_path, text))
    assert config.partners == (
        PartnerConfig(name="One", email_domains=("one.example", "one-bis.example")),
        PartnerConfig(name="Two", security_contact="soc@two.example"),
    )
    assert error(tmp_path, text + '[[partners]]\nname = "Three"\nmail = "x"\n') == (
        "[partners[2]] mail: unknown key"
    )


def test_accounts_file_is_relative_to_the_config_file(tmp_path: Path) -> None:
    write(tmp_path, "login\na@acme.example\n", "accounts.csv")
    config = load_config(write(tmp_path, ORG + '[accounts]\nfile = "accounts.csv"\n'))
    assert config.accounts_file == tmp_path / "accounts.csv"
    assert error(tmp_path, ORG + '[accounts]\nfile = "nope.csv"\n') == (
        f"[accounts] file: file not found: {tmp_path / 'nope.csv'}"
    )


def test_config_is_immutable(tmp_path: Path) -> None:
    text = ORG + '[notifiers.console]\n[policy]\nenforce = true\n[feeds.hibp]\napi_key_env = "K"\n'
    config = load_config(write(tmp_path, text))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.organisation = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.notifiers["slack"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        config.feeds["hibp"]["api_key_env"] = "OTHER"  # type: ignore[index]
    with pytest.raises(TypeError):
        config.policy["enforce"] = False  # type: ignore[index]
    assert isinstance(config, Config)
    assert PolicyConfig.from_mapping(config.policy).enforce is True


# -- errors: file, table and key, one format ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ORG + "colour = 1\n", "[organisation] colour: unknown key"),
        (ORG + '[[partners]]\nname = "P"\nemail = "x"\n', "[partners[0]] email: unknown key"),
        (ORG + "[accounts]\nlogin = []\n", "[accounts] login: unknown key"),
        (ORG + "[scan]\nmax_deph = 3\n", "[scan] max_deph: unknown key"),
        (ORG + '[serve]\nnightlyy = "0 1 * * *"\n', "[serve] nightlyy: unknown key"),
        (ORG + "[policy]\nenforse = true\n", "[policy] enforse: unknown key"),
        (ORG + "[policy.rules]\nportal = {}\n", "[policy.rules] portal: unknown key"),
        (
            ORG + '[policy.rules.host]\nurgent = "alert"\n',
            "[policy.rules.host] urgent: unknown key",
        ),
        (ORG + "[colour]\nred = 1\n", "[colour] unknown table"),
        ('organisation = { name = "A" }\nverbose = true\n', "[verbose] unknown table"),
    ],
)
def test_unknown_keys_name_file_table_and_key(tmp_path: Path, text: str, message: str) -> None:
    assert error(tmp_path, text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ORG + '[scan]\nmax_depth = "3"\n', "[scan] max_depth: input should be a valid integer"),
        (ORG + "[scan]\nmax_depth = true\n", "[scan] max_depth: input should be a valid integer"),
        (ORG + "[scan]\nmax_line = 1.5\n", "[scan] max_line: input should be a valid integer"),
        (ORG + "[scan]\nmax_ratio = true\n", "[scan] max_ratio: input should be a valid number"),
        (ORG + '[scan]\nmax_ratio = "2"\n', "[scan] max_ratio: input should be a valid number"),
        (ORG + "[scan]\nworkdir = 1\n", "[scan] workdir: input should be a valid string"),
        (
            ORG + '[scan]\narchive_passwords = "infected"\n',
            "[scan] archive_passwords: must be a list of non-empty strings",
        ),
        (
            ORG + '[scan]\narchive_passwords = ["a", 1]\n',
            "[scan] archive_passwords: must be a list of non-empty strings",
        ),
        (
            ORG + '[accounts]\nlogins = ["a", " "]\n',
            "[accounts] logins: must be a list of non-empty strings",
        ),
        (
            ORG + "[serve]\nmetrics_port = 9185.0\n",
            "[serve] metrics_port: input should be a valid integer",
        ),
        (
            ORG + "[serve]\nsettle_seconds = 1979-05-27\n",
            "[serve] settle_seconds: input should be a valid number",
        ),
        ("[organisation]\nname = 1\n", "[organisation] name: input should be a valid string"),
        (ORG + "[policy]\nenforce = 1\n", "[policy] enforce: input should be a valid boolean"),
        (ORG + "scan = 3\n", "[organisation] scan: unknown key"),
        ("scan = 3\n" + ORG, "[scan] must be a table"),
        (
            'partners = { name = "P" }\n' + ORG,
            "[partners] must be an array of tables ([[partners]])",
        ),
        ("partners = [1]\n" + ORG, "[partners] must be an array of tables ([[partners]])"),
        ("notifiers = 1\n" + ORG, "[notifiers] must be a table"),
        (ORG + "[notifiers]\nslack = true\n", "[notifiers.slack] must be a table"),
        (ORG + '[responders]\nokta = "on"\n', "[responders.okta] must be a table"),
        (ORG + "[feeds]\nhibp = []\n", "[feeds.hibp] must be a table"),
        (ORG + "[policy.rules]\nhost = 1\n", "[policy.rules] host: must be a table"),
        (ORG + "[policy]\nsuppress = 1\n", "[policy] suppress: must be a table"),
    ],
)
def test_values_keep_their_toml_types(tmp_path: Path, text: str, message: str) -> None:
    assert error(tmp_path, text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ORG + "[scan]\nmax_depth = -1\n", "[scan] max_depth: must be >= 0"),
        (ORG + "[scan]\nmax_member_size = -1\n", "[scan] max_member_size: must be >= 0"),
        (ORG + "[scan]\nmax_total_size = -1\n", "[scan] max_total_size: must be >= 0"),
        (ORG + "[scan]\nmax_line = -1\n", "[scan] max_line: must be >= 1"),
        (ORG + "[scan]\nmax_line = 0\n", "[scan] max_line: must be >= 1"),
        (ORG + "[scan]\nmax_ratio = 0\n", "[scan] max_ratio: must be a number greater than 0"),
        (ORG + "[scan]\nmax_ratio = -2.5\n", "[scan] max_ratio: must be a number greater than 0"),
        (ORG + "[scan]\nmax_ratio = nan\n", "[scan] max_ratio: must be a number greater than 0"),
        (
            ORG + "[serve]\noutbox_interval_seconds = inf\n",
            "[serve] outbox_interval_seconds: must be a number greater than 0",
        ),
        (
            ORG + "[serve]\nsettle_seconds = 0\n",
            "[serve] settle_seconds: must be a number greater than 0",
        ),
        (ORG + "[scan]\nworkers = -2\n", "[scan] workers: must be >= 0"),
        (
            ORG + "[serve]\nhibp_interval_minutes = -5\n",
            "[serve] hibp_interval_minutes: must be >= 0",
        ),
        (ORG + "[serve]\nmetrics_port = -1\n", "[serve] metrics_port: must be between 0 and 65535"),
        (
            ORG + "[serve]\nmetrics_port = 65536\n",
            "[serve] metrics_port: must be between 0 and 65535",
        ),
    ],
)
def test_range_checks(tmp_path: Path, text: str, message: str) -> None:
    assert error(tmp_path, text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[scan]\n", "[organisation] missing"),
        ("[organisation]\ndomains = []\n", "[organisation] name: missing"),
        ('[organisation]\nname = "  "\n', "[organisation] name: must not be empty"),
        (
            '[organisation]\nname = "A"\ndomains = ["https://acme.example"]\n',
            "[organisation] domains: not a domain name: 'https://acme.example'",
        ),
        (
            '[organisation]\nname = "A"\ndomains = ["localhost"]\n',
            "[organisation] domains: not a domain name: 'localhost'",
        ),
        (
            '[organisation]\nname = "A"\nportals = ["ftp://acme.example/x"]\n',
            "[organisation] portals: not an http(s) URL with a host: 'ftp://acme.example/x'",
        ),
        (
            ORG + '[[partners]]\nemail_domains = ["p.example"]\n',
            "[partners[0]] name: missing",
        ),
        (
            ORG + '[[partners]]\nname = "P"\nemail_domains = ["p example"]\n',
            "[partners[0]] email_domains: not a domain name: 'p example'",
        ),
        (
            ORG + '[[partners]]\nname = "P"\nsecurity_contact = "soc"\n',
            "[partners[0]] security_contact: not an e-mail address",
        ),
        (
            ORG + '[serve]\nnightly = "every night"\n',
            "[serve] nightly: not a cron expression (",
        ),
        (ORG + '[serve]\ntimezone = "nowhere/none"\n', "[serve] timezone: unknown time zone: "),
        (
            ORG + '[policy.rules.host]\nhigh = "block"\n',
            "[policy.rules.host] high: must be contain, approve or alert",
        ),
        (ORG + '[policy.suppress]\n"a@acme.example" = ""\n', "[policy.suppress] a@acme.example: "),
    ],
)
def test_value_checks(tmp_path: Path, text: str, message: str) -> None:
    assert error(tmp_path, text).startswith(message)


def test_error_carries_table_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, ORG + "[scan]\nmax_depth = -1\n")
    with pytest.raises(SettingError) as info:
        load_config(path)
    assert (info.value.file, info.value.section, info.value.key) == (path, "scan", "max_depth")
    assert str(info.value) == f"{path}: [scan] max_depth: must be >= 0"


def test_renamed_key_names_its_new_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScanSection, "renamed", {"depth": "max_depth"})
    assert error(tmp_path, ORG + "[scan]\ndepth = 3\n") == "[scan] depth: renamed: use 'max_depth'"
    assert load_config(write(tmp_path, ORG + "[scan]\nmax_depth = 3\n")).scan.max_depth == 3


# -- the file itself ------------------------------------------------------------------------


def test_unusable_files_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"is a directory, not a configuration file"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[organisation\n"))
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[organisation]\nname = "Is\xe8re"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, ORG)
    path.chmod(0)
    try:
        with pytest.raises(ConfigError, match="cannot read the configuration file"):
            load_config(path)
    finally:
        path.chmod(0o600)
