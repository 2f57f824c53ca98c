"""Pure matching: a LeakedCredential and the Watchlist in, a Match (reasons, severity) or None out."""

from __future__ import annotations

from monitor.normalize import email_domain, path_under, under_domain
from monitor.types import CredentialKind, LeakedCredential, Match, Reason, Severity
from monitor.watchlist import Watchlist


def match(cred: LeakedCredential, watch: Watchlist) -> Match | None:
    reasons: list[Reason] = []
    domain = under_domain(cred.host, watch.domains) or under_domain(cred.host, watch.all_domains)
    if domain:
        reasons.append(Reason.HOST)
    portal_url = None
    for portal in watch.portals_by_host.get(cred.host, ()):
        # A record without a path (sorters keep scheme://host only) still names the portal host.
        if not cred.path.strip("/") or path_under(cred.path, portal.path):
            portal_url = portal.url
            reasons.append(Reason.PORTAL)
            break
    partner = None
    account = None
    if cred.kind is not CredentialKind.COOKIE and cred.login:
        account = watch.account(cred.login)
        if account is not None:
            reasons.append(Reason.LOGIN)
            partner = account.partner
        mail_domain = email_domain(cred.login)
        watched_mail = under_domain(mail_domain, watch.all_domains)
        if watched_mail:
            reasons.append(Reason.EMAIL_DOMAIN)
            partner = partner or watch.email_domains[watched_mail]
            domain = domain or watched_mail
    if not reasons:
        return None
    return Match(
        credential=cred,
        reasons=tuple(reasons),
        severity=severity(cred.kind, reasons),
        domain=domain,
        portal=portal_url,
        partner=partner,
        account=account,
    )


def severity(kind: CredentialKind, reasons: list[Reason] | tuple[Reason, ...]) -> Severity:
    """Portal beats host beats identity-only; a known account or partner raises it one step."""
    identified = Reason.LOGIN in reasons or Reason.EMAIL_DOMAIN in reasons
    if Reason.PORTAL in reasons:
        level = Severity.CRITICAL if identified or kind is CredentialKind.COOKIE else Severity.HIGH
    elif Reason.HOST in reasons:
        level = Severity.HIGH if identified or kind is CredentialKind.COOKIE else Severity.MEDIUM
    elif Reason.LOGIN in reasons:
        level = Severity.MEDIUM  # a monitored account's password on another site: reuse risk
    else:
        level = Severity.LOW
    if kind in (CredentialKind.HASH, CredentialKind.ACCOUNT) and level > Severity.LOW:
        level = Severity(level - 1)  # no usable password in hand
    return level
