"""Policy decisions per match kind and severity, suppression, staleness, external users, config."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.errors import ConfigError
from monitor.policy import Decision, MatchKind, PolicyConfig, classify, decide
from monitor.types import Account, CredentialKind, LeakedCredential, Match, Reason, Secret, Severity

ACCOUNT = Account(login="partner1@gmail.com", partner="Kairos", idp="okta")


def match(
    kind: CredentialKind,
    reasons: tuple[Reason, ...],
    severity: Severity,
    *,
    account: Account | None = None,
    login: str = "partner1@gmail.com",
) -> Match:
    cred = LeakedCredential(
        kind=kind,
        url="https://portail-partenaire.example.org/kairos",
        host="portail-partenaire.example.org",
        path="/kairos",
        login=login,
        secret=Secret("Synthetic#1") if kind is not CredentialKind.ACCOUNT else None,
        origin="dump.zip!PC1/Passwords.txt:3",
    )
    return Match(credential=cred, reasons=reasons, severity=severity, account=account)


P, C, H, A = (
    CredentialKind.PASSWORD,
    CredentialKind.COOKIE,
    CredentialKind.HASH,
    CredentialKind.ACCOUNT,
)
PORTAL = (Reason.PORTAL, Reason.HOST)


@pytest.mark.parametrize(
    ("kind", "reasons", "account", "expected"),
    [
        (P, PORTAL, ACCOUNT, MatchKind.PORTAL_ACCOUNT),
        (P, (*PORTAL, Reason.LOGIN), ACCOUNT, MatchKind.PORTAL_ACCOUNT),
        (P, PORTAL, None, MatchKind.PORTAL_UNKNOWN),
        (C, PORTAL, None, MatchKind.PORTAL_COOKIE),
        (C, (Reason.HOST,), None, MatchKind.HOST_COOKIE),
        (P, (Reason.HOST,), None, MatchKind.HOST),
        (P, (Reason.LOGIN,), ACCOUNT, MatchKind.LOGIN_ELSEWHERE),
        (P, (Reason.EMAIL_DOMAIN,), None, MatchKind.EMAIL_DOMAIN),
        (H, PORTAL, ACCOUNT, MatchKind.HASH),
        (A, PORTAL, ACCOUNT, MatchKind.ACCOUNT),
    ],
)
def test_classify(
    kind: CredentialKind, reasons: tuple[Reason, ...], account: Account | None, expected: MatchKind
) -> None:
    assert classify(match(kind, reasons, Severity.HIGH, account=account)) is expected


DEFAULT = PolicyConfig()


@pytest.mark.parametrize(
    ("kind", "reasons", "account", "severity", "expected"),
    [
        (P, PORTAL, ACCOUNT, Severity.CRITICAL, Decision.CONTAIN),
        (P, PORTAL, ACCOUNT, Severity.HIGH, Decision.CONTAIN),
        (P, PORTAL, ACCOUNT, Severity.MEDIUM, Decision.APPROVE),
        (P, PORTAL, ACCOUNT, Severity.LOW, Decision.ALERT),
        (P, PORTAL, None, Severity.CRITICAL, Decision.APPROVE),
        (P, PORTAL, None, Severity.MEDIUM, Decision.ALERT),
        (C, PORTAL, None, Severity.HIGH, Decision.APPROVE),
        (C, (Reason.HOST,), None, Severity.CRITICAL, Decision.ALERT),
        (P, (Reason.HOST,), None, Severity.HIGH, Decision.APPROVE),
        (P, (Reason.HOST,), None, Severity.LOW, Decision.ALERT),
        (P, (Reason.LOGIN,), ACCOUNT, Severity.CRITICAL, Decision.APPROVE),
        (P, (Reason.LOGIN,), ACCOUNT, Severity.HIGH, Decision.ALERT),
        (P, (Reason.EMAIL_DOMAIN,), None, Severity.CRITICAL, Decision.ALERT),
        (H, PORTAL, ACCOUNT, Severity.CRITICAL, Decision.ALERT),
        (A, PORTAL, ACCOUNT, Severity.HIGH, Decision.APPROVE),
        (A, PORTAL, ACCOUNT, Severity.MEDIUM, Decision.ALERT),
    ],
)
def test_default_table(
    kind: CredentialKind,
    reasons: tuple[Reason, ...],
    account: Account | None,
    severity: Severity,
    expected: Decision,
) -> None:
    verdict = decide(match(kind, reasons, severity, account=account), DEFAULT)
    assert verdict.decision is expected
    assert verdict.severity is severity
    assert verdict.dry_run is True  # enforce is off by default


def test_suppression_wins_with_reason() -> None:
    config = PolicyConfig.from_mapping(
        {"enforce": True, "suppress": {"Partner1@Gmail.com": "former staff, account deleted"}}
    )
    verdict = decide(match(P, PORTAL, Severity.CRITICAL, account=ACCOUNT), config)
    assert verdict.decision is Decision.SUPPRESS
    assert verdict.reason == "suppressed: former staff, account deleted"
    other = decide(match(P, PORTAL, Severity.CRITICAL, login="someone@gmail.com"), config)
    assert other.decision is Decision.APPROVE
    assert other.dry_run is False


def test_rules_override_one_cell_and_keep_the_rest() -> None:
    config = PolicyConfig.from_mapping(
        {"enforce": True, "rules": {"portal_unknown": {"critical": "contain"}}}
    )
    assert config.rules[MatchKind.PORTAL_UNKNOWN][Severity.CRITICAL] is Decision.CONTAIN
    assert config.rules[MatchKind.PORTAL_UNKNOWN][Severity.HIGH] is Decision.APPROVE
    verdict = decide(match(P, PORTAL, Severity.CRITICAL), config)
    assert (verdict.decision, verdict.dry_run) == (Decision.CONTAIN, False)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"enforse": True}, "[policy] enforse: unknown key"),
        ({"enforce": "yes"}, "[policy] enforce: input should be a valid boolean"),
        ({"rules": {"portal": {"high": "contain"}}}, "[policy.rules] portal: unknown key"),
        ({"rules": {"host": {"urgent": "contain"}}}, "[policy.rules.host] urgent: unknown key"),
        (
            {"rules": {"host": {"high": "block"}}},
            "[policy.rules.host] high: must be contain, approve or alert",
        ),
        ({"suppress": {"a@b.example": ""}}, "[policy.suppress] a@b.example: needs a reason"),
        ({"suppress": {"UNKNOWN": "x"}}, "[policy.suppress] UNKNOWN: not a usable login"),
        (
            {"infection_window_days": 0},
            "[policy] infection_window_days: input should be greater than or equal to 1",
        ),
        (
            {"infection_window_days": 3651},
            "[policy] infection_window_days: input should be less than or equal to 3650",
        ),
        (
            {"infection_window_days": "a year"},
            "[policy] infection_window_days: input should be a valid integer",
        ),
    ],
)
def test_config_errors(mapping: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        PolicyConfig.from_mapping(mapping)
    assert str(info.value) == message


def test_rules_table_has_one_key_per_match_kind() -> None:
    from monitor.policy import RulesSection, SeverityRules

    assert set(RulesSection.model_fields) == {k.value for k in MatchKind}
    assert set(SeverityRules.model_fields) == {s.label for s in Severity}


def test_severity_names_in_any_case() -> None:
    config = PolicyConfig.from_mapping({"rules": {"host": {" High": "contain", "LOW": "approve"}}})
    assert config.rules[MatchKind.HOST][Severity.HIGH] is Decision.CONTAIN
    assert config.rules[MatchKind.HOST][Severity.LOW] is Decision.APPROVE
    assert config.rules[MatchKind.HOST][Severity.CRITICAL] is Decision.APPROVE


def test_config_error_names_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        PolicyConfig.from_mapping({"enforce": 1}, file="credwatch.toml")
    assert str(info.value) == "credwatch.toml: [policy] enforce: input should be a valid boolean"


def test_infection_window_is_configured_in_days() -> None:
    assert PolicyConfig.from_mapping({}).infection_window == timedelta(days=365)
    config = PolicyConfig.from_mapping({"infection_window_days": 30})
    assert config.infection_window == timedelta(days=30)
