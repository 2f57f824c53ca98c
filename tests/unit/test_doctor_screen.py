"""`credwatch doctor` says which engine screens text, and how to get the fast one."""

from __future__ import annotations

import sys

import pytest

import monitor
from monitor import doctor_host, hs_native
from monitor.doctor_types import Status


@pytest.mark.skipif(hs_native.library() is None, reason="the system's Hyperscan is not here")
def test_the_system_library_is_ok_and_names_the_cpu_features() -> None:
    check = doctor_host.screen_engine()
    assert check.status is Status.OK
    assert check.detail.startswith("system Hyperscan (Version: 5.")
    assert "Features:" in check.detail


def test_the_wheel_alone_is_a_warning_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("hyperscan")
    monkeypatch.setattr(hs_native, "library", lambda: None)
    check = doctor_host.screen_engine()
    assert check.status is Status.WARNING
    assert check.detail.startswith("the hyperscan wheel (Version:")
    assert check.fix is not None and "apt-get install libhyperscan5" in check.fix


def test_no_hyperscan_at_all_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hs_native, "library", lambda: None)
    monkeypatch.setitem(sys.modules, "hyperscan", None)  # importing it raises ImportError
    monkeypatch.delitem(sys.modules, "monitor.hs_wheel", raising=False)
    monkeypatch.delattr(monitor, "hs_wheel", raising=False)
    check = doctor_host.screen_engine()
    assert check.status is Status.WARNING
    assert "portable screen" in check.detail
