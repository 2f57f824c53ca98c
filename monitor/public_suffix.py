"""A host's domain under its public suffix (`a.b.example.co.uk` → `example.co.uk`).

The rules and the walk are tldextract's (the ICANN section of the public-suffix list snapshot
it ships, wildcards and exceptions, punycode labels compared decoded), read from that same
snapshot file without importing the package: its HTTP client, file cache and two tries cost
0.15-0.2 s in every process that records an exposure.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import scheme_chars

_RULE = re.compile(r"^(?P<suffix>[.*!]*\w[\S]*)", re.UNICODE | re.MULTILINE)
_PRIVATE = "// ===BEGIN PRIVATE DOMAINS==="
_SNAPSHOT = ".tld_set_snapshot"
_SCHEME_CHARS = frozenset(scheme_chars)


@dataclass(frozen=True, slots=True)
class Rules:
    nodes: frozenset[str]  # every rule and each of its right-hand parts ("co.uk", "uk")
    ends: frozenset[str]  # the rules themselves


def parse(text: str) -> Rules:
    """The rules of a public-suffix list's ICANN section (the private section is not used)."""
    rules = [m.group("suffix") for m in _RULE.finditer(text.partition(_PRIVATE)[0])]
    nodes = set(rules)
    for rule in rules:
        dot = rule.find(".")
        while dot != -1:
            nodes.add(rule[dot + 1 :])
            dot = rule.find(".", dot + 1)
    return Rules(nodes=frozenset(nodes), ends=frozenset(rules))


@functools.cache
def rules() -> Rules | None:
    """The snapshot tldextract ships, found without running its package's imports; None when
    this version of tldextract keeps it elsewhere (then tldextract itself is asked)."""
    spec = importlib.util.find_spec("tldextract")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("tldextract is not installed: its public-suffix snapshot is needed")
    snapshot = Path(next(iter(spec.submodule_search_locations))) / _SNAPSHOT
    try:
        table = parse(snapshot.read_bytes().decode("utf-8"))
    except (OSError, UnicodeError):
        return None
    return table if table.ends else None


@functools.cache
def _extractor() -> Callable[[str], str]:
    """tldextract's own answer, offline and without private domains (the slow path)."""
    import tldextract

    extract = tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=False)
    return lambda host: extract(host).top_domain_under_public_suffix


def top_domain(host: str, table: Rules | None = None) -> str:
    """The registrable domain of `host` (a host or URL-like text), "" when it has none (an IP
    address, a bare suffix, an unknown top-level domain): tldextract's
    `extract_str(host).top_domain_under_public_suffix` without private domains."""
    table = rules() if table is None else table
    if table is None:
        return _extractor()(host)
    netloc = _lenient_netloc(host)
    netloc = netloc.replace("\u3002", ".").replace("\uff0e", ".").replace("\uff61", ".")
    if len(netloc) >= 4 and netloc[0] == "[" and netloc[-1] == "]" and _ipv6(netloc[1:-1]):
        return ""
    labels = netloc.split(".")
    index = _suffix_index(labels, table)
    if index is None or index == 0:
        return ""
    suffix = ".".join(labels[index:])
    domain = labels[index - 1]
    return f"{domain}.{suffix}" if suffix and domain else ""


def _suffix_index(labels: list[str], table: Rules) -> int | None:
    """Where the public suffix starts in `labels`; None when no rule matches. The walk goes
    from the right, one label at a time, down the rules' right-hand parts (a decoded label
    never holds a dot: IDNA refuses one)."""
    path = ""  # the labels matched so far, decoded, as a rule writes them
    suffix_index = label_index = len(labels)
    for label in reversed(labels):
        decoded = _decode_punycode(label)
        child = f"{decoded}.{path}" if path else decoded
        if child in table.nodes:
            label_index -= 1
            path = child
            if child in table.ends:
                suffix_index = label_index
            continue
        if (f"*.{path}" if path else "*") in table.nodes:
            exception = (f"!{decoded}.{path}" if path else f"!{decoded}") in table.nodes
            return label_index if exception else label_index - 1
        break
    return None if suffix_index == len(labels) else suffix_index


def _decode_punycode(label: str) -> str:
    lowered = label.lower()
    if lowered.startswith("xn--"):
        import idna

        try:
            return str(idna.decode(lowered))
        except (UnicodeError, IndexError):
            pass
    return lowered


def _ipv6(text: str) -> bool:
    from ipaddress import AddressValueError, IPv6Address

    try:
        IPv6Address(text)
    except AddressValueError:
        return False
    return True


def _lenient_netloc(url: str) -> str:
    authority = _schemeless(url).partition("/")[0].partition("?")[0].partition("#")[0]
    after_userinfo = authority.rpartition("@")[-1]
    if after_userinfo and after_userinfo[0] == "[":
        maybe_ipv6 = after_userinfo.partition("]")
        if maybe_ipv6[1] == "]":
            return f"{maybe_ipv6[0]}]"
    hostname = after_userinfo.partition(":")[0].strip()
    return hostname.rstrip(".\u3002\uff0e\uff61")


def _schemeless(url: str) -> str:
    start = url.find("//")
    if start == 0:
        return url[2:]
    if start < 2 or url[start - 1] != ":" or set(url[: start - 1]) - _SCHEME_CHARS:
        return url
    return url[start + 2 :]
