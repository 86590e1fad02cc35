"""Attacks and accidents found by review: a configured trust store is never
skipped, an empty $HOME does not make the current directory trusted, the
passphrase callable runs on the caller's thread, an exception that arrives
once a restore is done says so, and results stay frozen."""

from __future__ import annotations

import copy
import os
import pickle
import shutil
import threading
from pathlib import Path
from typing import Any, Dict, List

import pytest

import projectrestore
from conftest import CRYPTO, DEMO


def test_a_trust_store_in_the_user_settings_is_used(isolated_home: Path, tmp_path: Path) -> None:
    cfg = isolated_home / ".config" / "projectrestore"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text(f'trust = ["{CRYPTO / "trust"}"]\n')
    with pytest.raises(projectrestore.VerificationError, match="no signature"):
        projectrestore.restore(DEMO / "2026-11-23_090000-demo-older.tar.gz", tmp_path / "d")
    assert not (tmp_path / "d").exists()
    r = projectrestore.verify(CRYPTO / "data.tar.gz")
    assert r.verified and str(cfg / "config.toml") in r.trust_store["origin"]


def test_an_empty_home_does_not_trust_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attacker prepared the current directory: a "default trust store"
    # with their key, and an archive signed by it.
    cwd = tmp_path / "cwd"
    keys = cwd / ".config" / "projectrestore" / "keys"
    keys.mkdir(parents=True)
    shutil.copy(CRYPTO / "other" / "minisign-untrusted.pub", keys)
    shutil.copy(CRYPTO / "data.tar.gz", cwd / "a.tar.gz")
    shutil.copy(CRYPTO / "data.tar.gz.untrusted.minisig", cwd / "a.tar.gz.minisig")
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", "")
    with pytest.raises(projectrestore.VerificationError):
        projectrestore.restore("a.tar.gz", tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_the_passphrase_callable_runs_on_the_callers_thread(tmp_path: Path) -> None:
    good = (CRYPTO / "secret/age.pass").read_text().splitlines()[0]
    threads: List[bool] = []
    local = threading.local()
    local.value = "mine"

    def ask(what: str) -> str:
        threads.append(threading.current_thread() is threading.main_thread()
                       and getattr(local, "value", None) == "mine")
        return good

    projectrestore.restore(CRYPTO / "data.tar.gz.passphrase.age", tmp_path / "d",
                           allow_unsigned=True, passphrase=ask)
    assert threads == [True]


def test_an_exception_after_the_restore_says_it_happened(tmp_path: Path) -> None:
    class Late(Exception):
        pass

    def on_event(e: Dict[str, Any]) -> None:
        if e["event"] == "finished":
            raise Late("after the fact")

    with pytest.raises(Late) as info:
        projectrestore.restore(CRYPTO / "data.tar.gz", tmp_path / "d", allow_unsigned=True,
                               events=on_event)
    result = info.value.projectrestore_result  # type: ignore[attr-defined]
    assert result["destination"] == str(tmp_path / "d")
    assert (tmp_path / "d" / "proj" / "src" / "main.rs").exists()


def test_results_stay_frozen(tmp_path: Path) -> None:
    kept: List[Dict[str, Any]] = []
    r = projectrestore.restore(CRYPTO / "data.tar.gz", tmp_path / "d", allow_unsigned=True,
                               events=lambda e: kept.append(e))
    finished = kept[-1]["report"]
    finished["sha256"] = "0" * 64
    finished["signatures"]["outcome"]["verdict"] = "verified"
    assert r.sha256 != "0" * 64 and not r.verified
    summary = r.summary
    summary["files"] = 0
    assert r.summary["files"] != 0
    with pytest.raises(AttributeError):
        r.sha256 = "x"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(r)) == r
    assert copy.deepcopy(r) == r and copy.copy(r) is r


def test_the_settings_threshold_is_a_floor(isolated_home: Path, tmp_path: Path) -> None:
    cfg = isolated_home / ".config" / "projectrestore"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text(f'trust = ["{CRYPTO / "trust"}"]\nthreshold = 2\n')
    # One good signature: the CLI asks for two, and so does the call.
    with pytest.raises(projectrestore.VerificationError, match="2 required"):
        projectrestore.restore(CRYPTO / "data.tar.gz", tmp_path / "d",
                               signatures=[CRYPTO / "data.tar.gz.minisig"])
    assert not (tmp_path / "d").exists()
    # Given explicitly, the trust store is the caller's, with the caller's threshold.
    r = projectrestore.verify(CRYPTO / "data.tar.gz", trust=[CRYPTO / "trust"],
                              signatures=[CRYPTO / "data.tar.gz.minisig"])
    assert r.verified
