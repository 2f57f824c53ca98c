"""Start-up hardening: no core dumps, and on Linux a process other users cannot dump or trace."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import ctypes, json, resource
from monitor.hardening import harden
harden()
print(json.dumps({
    "core": resource.getrlimit(resource.RLIMIT_CORE),
    "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0),  # PR_GET_DUMPABLE
}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="prctl is Linux's")
def test_harden_turns_core_dumps_off_and_the_process_not_dumpable() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    got = json.loads(out.stdout)
    assert got == {"core": [0, 0], "dumpable": 0}
