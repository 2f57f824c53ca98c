"""The container example, checked offline: secrets as files, no password in the DSN, the drop
folder a bind mount, metrics reachable when published, a numeric user and a HEALTHCHECK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = (ROOT / "docker-compose.yml").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_compose_passes_secrets_as_files_and_no_password_in_the_dsn() -> None:
    assert "CREDWATCH_DSN: postgresql://credwatch@db:5432/credwatch" in COMPOSE
    assert "CREDWATCH_DB_PASSWORD_FILE: /run/secrets/db_password" in COMPOSE
    assert "POSTGRES_PASSWORD_FILE: /run/secrets/db_password" in COMPOSE
    assert "CREDWATCH_HMAC_KEY_FILE: /run/secrets/hmac_key" in COMPOSE
    assert "${POSTGRES_PASSWORD" not in COMPOSE and "${CREDWATCH_HMAC_KEY" not in COMPOSE


def test_compose_drop_folder_is_a_bind_mount_and_metrics_listen_on_all_interfaces() -> None:
    assert "- ./drop:/srv/drop" in COMPOSE
    assert "CREDWATCH_METRICS_HOST: 0.0.0.0" in COMPOSE
    assert '"127.0.0.1:9185:9185"' in COMPOSE


def test_dockerfile_user_healthcheck_and_rar_backend() -> None:
    users = [line.split()[1] for line in DOCKERFILE.splitlines() if line.startswith("USER ")]
    assert users and all(part.isdigit() and part != "0" for part in users[-1].split(":"))
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    assert "unar" in DOCKERFILE
    assert "CREDWATCH_METRICS_HOST=0.0.0.0" in DOCKERFILE


def _compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")  # the shape below needs a YAML parser
    loaded = yaml.safe_load(COMPOSE)
    assert isinstance(loaded, dict)
    return loaded


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # `- KEY=value` form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_compose_shape_services_secrets_and_health() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"credwatch", "worker", "db"} <= set(services)
    declared = compose["secrets"]
    assert all(set(s) == {"file"} and s["file"].startswith("./secrets/") for s in declared.values())
    assert "healthcheck" in services["db"]
    for name in ("credwatch", "worker"):
        service = services[name]
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        env = _environment(service)
        for variable, value in env.items():
            if any(word in variable for word in ("PASSWORD", "KEY", "TOKEN", "SECRET")):
                assert variable.endswith("_FILE"), variable  # a secret is never a value
                secret = value.removeprefix("/run/secrets/")
                assert value.startswith("/run/secrets/") and secret in service["secrets"]
                assert secret in declared
        userinfo = env["CREDWATCH_DSN"].split("://", 1)[1].rpartition("@")[0]
        assert userinfo and ":" not in userinfo  # a user name, no password
    for service in services.values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port  # published on loopback only
    assert "127.0.0.1:9185:9185" in services["credwatch"]["ports"]
    drop = [v for v in services["credwatch"]["volumes"] if v.split(":")[1:2] == ["/srv/drop"]]
    assert drop and drop[0].startswith("./")  # a bind mount of a host folder, not a volume


def test_docker_compose_config_accepts_the_file() -> None:
    """`docker-compose config` validates the file offline (no engine needed)."""
    import shutil
    import subprocess

    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose missing: scripts/system-deps.sh --test installs it")
    res = subprocess.run(
        [exe, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
