"""Read one config section into a typed, validated, frozen model; one error format for all sections.

Every section — the core's and every plug-in's — is a `Section` subclass (pydantic). A bad value
raises `SettingError`, whose text names the file, the section and the key:
`credwatch.toml: [notifiers.slack] webhook_url_env: missing`. Secrets never sit in the file: a
section names the environment variable that holds one, and `secret_from_env` reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from monitor.errors import ConfigError

S = TypeVar("S", bound="Section")


class SettingError(ConfigError):
    """A config value that cannot be used: where it is (file, section, key) and what is wrong."""

    def __init__(self, section: str, key: str, problem: str, *, file: Path | str | None = None):
        self.section, self.key, self.problem, self.file = section, key, problem, file
        where = f"{file}: " if file else ""
        super().__init__(
            f"{where}[{section}] {key}: {problem}" if key else f"{where}[{section}] {problem}"
        )

    def in_file(self, file: Path | str) -> SettingError:
        """The same error, naming the file it comes from (when it did not already)."""
        if self.file:
            return self
        return SettingError(self.section, self.key, self.problem, file=file)


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values keep their TOML types."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    # Keys that were renamed: old name -> new name (an old name is an error naming the new one).
    renamed: ClassVar[Mapping[str, str]] = {}


def _table(data: Any) -> bool:
    return data is None or isinstance(data, Mapping)


# What pydantic puts in an error's location for a member of a union: `list[str]`, `function-after`.
_UNION_TAG = re.compile(r"[\[\]\-]")


def load_section(
    model: type[S], data: Mapping[str, Any], *, section: str, file: Path | str | None = None
) -> S:
    """`data` validated as `model`; the first problem is raised as a SettingError."""
    if not isinstance(data, Mapping):
        raise SettingError(section, "", "must be a table", file=file)
    for old, new in model.renamed.items():
        if old in data:
            raise SettingError(section, old, f"renamed: use {new!r}", file=file)
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(_key_path(data, first["loc"]))
        raise SettingError(section, key, _problem(first), file=file) from None


def _key_path(data: Any, loc: Sequence[int | str]) -> list[str]:
    """The keys and indexes of `loc` as the file has them, without the tags pydantic adds for a
    member of a union (`to.list[str].0` is `to.0`)."""
    out: list[str] = []
    for part in loc:
        if isinstance(part, int) and isinstance(data, list | tuple):
            data = data[part] if 0 <= part < len(data) else None
        elif isinstance(part, str) and isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(part, str) and not _UNION_TAG.search(part) and _table(data):
            data = None  # a key the model expects and the file lacks
        else:
            continue
        out.append(str(part))
    return out


def env_or_file(variable: str, env: Mapping[str, str], *, strip: bool = True) -> str:
    """The secret in `variable`, or in the file named by `variable`_FILE (Docker and Kubernetes
    secrets); "" when neither is set. A key file others can read is refused."""
    value = env.get(variable, "")
    file_var = f"{variable}_FILE"
    if not value and env.get(file_var):
        path = Path(env[file_var])
        try:
            mode = path.stat().st_mode
            value = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{file_var}: cannot read {path}: {exc.strerror}") from None
        if mode & 0o007:
            raise ConfigError(
                f"{file_var}: {path} is readable by other users; run `chmod o-rwx {path}`"
            )
        value = value.strip()
    return value.strip() if strip else value


def secret_from_env(
    section: str, key: str, variable: str, env: Mapping[str, str], *, strip: bool = True
) -> str:
    """The value of the environment variable `variable` (or of the file `variable`_FILE names),
    which `key` of `section` names."""
    value = env_or_file(variable, env, strip=strip)
    if not value:
        raise SettingError(section, key, f"environment variable {variable} is not set")
    return value


def _problem(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing"
    # pydantic's message (not the input value: it could be anything the file holds).
    msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]
