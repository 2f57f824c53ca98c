"""The container example, checked offline: secrets as files, no password in the DSN, the drop
folder a bind mount, metrics reachable when published, a numeric user and a HEALTHCHECK."""

from __future__ import annotations

from pathlib import Path

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
