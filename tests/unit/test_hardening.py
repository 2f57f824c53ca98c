"""The process disables core dumps and, on Linux, marks itself not dumpable at start."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import ctypes, resource, sys
from monitor import cli
sys.argv = ["credwatch", "--version"]
try:
    cli.main()
except SystemExit:
    pass
print(resource.getrlimit(resource.RLIMIT_CORE))
print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))  # PR_GET_DUMPABLE
"""


@pytest.mark.skipif(sys.platform != "linux", reason="prctl is Linux-only")
def test_the_console_script_disables_core_dumps() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    assert out[0].startswith("credwatch ")
    assert out[1] == "(0, 0)"
    assert out[2] == "0"
