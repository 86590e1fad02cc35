"""Each exception class is raised by a fixture that earns it, with its
attributes, the CLI's own sentences and exit code, and the destination
untouched."""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from pathlib import Path

import pytest

import projectrestore
from projectrestore import (
    DecryptionError,
    Interrupted,
    LimitExceededError,
    LockedError,
    ProjectRestoreError,
    UnsafeArchiveError,
    UsageError,
    VerificationError,
)
from conftest import CRYPTO, DEMO, make_tar, run_cli, tree

TRUST = CRYPTO / "trust"


def same_as_cli(e: ProjectRestoreError, *cli_args: object) -> None:
    """The exception carries the message, hint and exit code the CLI prints."""
    code, doc, _ = run_cli(*cli_args)
    assert e.exit_code == code == doc["exit_code"]
    assert e.message == doc["error"] == str(e)
    assert e.hint == doc["hint"]


def test_untrusted_signer(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    sig = CRYPTO / "data.tar.gz.untrusted.minisig"
    with pytest.raises(VerificationError) as info:
        projectrestore.restore(CRYPTO / "data.tar.gz", dest, trust=[TRUST], signatures=[sig])
    e = info.value
    assert e.exit_code == 4 and e.category == "verification"
    (verdict,) = e.signatures
    assert verdict["scheme"] == "minisign" and verdict["trusted"] is False
    assert e.outcome is not None and e.outcome["verdict"] == "failed"
    assert not dest.exists()
    same_as_cli(e, "restore", CRYPTO / "data.tar.gz", "--to", dest, "--trust", TRUST,
                "--signature", sig)


def test_tampered_archive(crypto_copy: Path, tmp_path: Path) -> None:
    a = crypto_copy / "data.tar.gz"
    data = bytearray(a.read_bytes())
    data[len(data) // 2] ^= 1
    a.write_bytes(bytes(data))
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    before = tree(dest)
    with pytest.raises(VerificationError) as info:
        projectrestore.restore(a, dest, trust=[TRUST],
                               signatures=[crypto_copy / "data.tar.gz.minisig"], yes=True)
    assert info.value.signatures and info.value.signatures[0]["valid"] is False
    assert tree(dest) == before


def test_unsigned_archive_with_a_trust_store(tmp_path: Path) -> None:
    with pytest.raises(VerificationError) as info:
        projectrestore.restore(DEMO / "2026-11-23_090000-demo-older.tar.gz", tmp_path / "d",
                               trust=[TRUST])
    assert "no signature" in info.value.message
    assert "--allow-unsigned" in (info.value.hint or "")


def test_hostile_archive(tmp_path: Path) -> None:
    a = make_tar(tmp_path / "evil.tar", [("ok.txt", b"fine"), ("../escape.txt", b"pwned")])
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError) as info:
        projectrestore.restore(a, dest, allow_unsigned=True)
    e = info.value
    assert e.exit_code == 5 and type(e) is UnsafeArchiveError
    assert e.entry == "../escape.txt"
    assert e.rule
    assert not dest.exists() and not (tmp_path / "escape.txt").exists()
    same_as_cli(e, "restore", a, "--to", dest, "--allow-unsigned")


def test_limit(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    with pytest.raises(LimitExceededError) as info:
        projectrestore.restore(CRYPTO / "data.tar.gz", dest, allow_unsigned=True,
                               limits={"max_files": 2})
    e = info.value
    assert isinstance(e, UnsafeArchiveError) and e.exit_code == 5
    assert e.limit is not None and e.limit["limit"] == 2
    assert not dest.exists()
    same_as_cli(e, "restore", CRYPTO / "data.tar.gz", "--to", dest, "--allow-unsigned",
                "--max-files", "2")
    with pytest.raises(TypeError):
        projectrestore.restore(CRYPTO / "data.tar.gz", dest, limits={"max_filez": 2})


def test_wrong_key(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    with pytest.raises(DecryptionError) as info:
        projectrestore.restore(CRYPTO / "data.tar.gz.x25519.age", dest, allow_unsigned=True,
                               identities=[CRYPTO / "secret/age-other.txt"])
    assert info.value.exit_code == 6
    assert not dest.exists()
    same_as_cli(info.value, "restore", CRYPTO / "data.tar.gz.x25519.age", "--to", dest,
                "--allow-unsigned", "-i", CRYPTO / "secret/age-other.txt")


def test_passphrase_str_callable_and_never_shown(tmp_path: Path) -> None:
    a = CRYPTO / "data.tar.gz.passphrase.age"
    good = (CRYPTO / "secret/age.pass").read_text().splitlines()[0]
    asked = []

    def ask(what: str) -> str:
        asked.append(what)
        return good

    projectrestore.restore(a, tmp_path / "a", allow_unsigned=True, passphrase=ask)
    assert len(asked) == 1 and asked[0]
    projectrestore.restore(a, tmp_path / "b", allow_unsigned=True, passphrase=good)
    # Asked only when needed: an identity opens this one.
    projectrestore.restore(CRYPTO / "data.tar.gz.x25519.age", tmp_path / "c",
                           allow_unsigned=True, identities=[CRYPTO / "secret/age.txt"],
                           passphrase=ask)
    assert len(asked) == 1
    secret = "correct horse battery staple 0xDEADBEEF"
    with pytest.raises(DecryptionError) as info:
        projectrestore.restore(a, tmp_path / "d", allow_unsigned=True, passphrase=secret)
    shown = str(info.value) + repr(info.value) + str(info.value.hint) + repr(info.value.details)
    assert secret not in shown
    assert not (tmp_path / "d").exists()

    class Refused(Exception):
        pass

    def refuse(what: str) -> str:
        raise Refused(what)

    with pytest.raises(Refused):
        projectrestore.restore(a, tmp_path / "e", allow_unsigned=True, passphrase=refuse)
    assert not (tmp_path / "e").exists()


def test_held_lock(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    projectrestore.restore(CRYPTO / "data.tar.gz", dest, allow_unsigned=True)
    before = tree(dest)
    lock = tmp_path / ".dest.projectrestore" / "lock"
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(LockedError) as info:
            projectrestore.restore(DEMO / "2026-11-23_090000-demo-older.tar.gz", dest,
                                   allow_unsigned=True)
        assert info.value.exit_code == 3
        same_as_cli(info.value, "restore", DEMO / "2026-11-23_090000-demo-older.tar.gz",
                    "--to", dest, "--allow-unsigned")
    finally:
        os.close(fd)
    assert tree(dest) == before


def test_cancel_event(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Interrupted) as info:
        projectrestore.restore(CRYPTO / "data.tar.gz", tmp_path / "d", allow_unsigned=True,
                               cancel=cancel)
    assert info.value.exit_code == 2
    assert not (tmp_path / "d").exists()


def test_usage_and_io_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        projectrestore.restore(CRYPTO / "data.tar.gz", tmp_path / "d", single_pass=True,
                               verify_first=True)
    assert info.value.exit_code == 64 and isinstance(info.value, ValueError)
    with pytest.raises(UsageError, match="must be a local path"):
        projectrestore.restore(CRYPTO / "data.tar.gz", tmp_path / "d", trust=["s3://b/keys"])
    with pytest.raises(FileNotFoundError) as nf:
        projectrestore.restore(tmp_path / "missing.tar.gz", tmp_path / "d", allow_unsigned=True)
    assert nf.value.errno == errno.ENOENT
    assert isinstance(nf.value, ProjectRestoreError) and nf.value.exit_code == 1
    same_as_cli(nf.value, "restore", tmp_path / "missing.tar.gz", "--to", tmp_path / "d",
                "--allow-unsigned")
    unreadable = tmp_path / "unreadable.tar.gz"
    unreadable.write_bytes((CRYPTO / "data.tar.gz").read_bytes())
    unreadable.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(PermissionError) as pe:
            projectrestore.restore(unreadable, tmp_path / "d", allow_unsigned=True)
        assert pe.value.errno == errno.EACCES
    with pytest.raises(TypeError, match="does not use"):
        projectrestore._call("verify", {"archive": CRYPTO / "data.tar.gz", "keep": 3})


def test_a_foreign_tree_needs_yes_and_home_is_never_replaced(
    tmp_path: Path, isolated_home: Path
) -> None:
    dest = tmp_path / "foreign"
    dest.mkdir()
    (dest / "mine.txt").write_text("not made by projectrestore")
    with pytest.raises(projectrestore.NotConfirmedError) as info:
        projectrestore.restore(CRYPTO / "data.tar.gz", dest, allow_unsigned=True)
    assert info.value.exit_code == 1 and "yes" in (info.value.hint or "")
    assert (dest / "mine.txt").read_text() == "not made by projectrestore"
    (isolated_home / "notes.txt").write_text("my home")
    with pytest.raises(projectrestore.RefusedError, match="never replaced"):
        projectrestore.restore(CRYPTO / "data.tar.gz", isolated_home, allow_unsigned=True,
                               yes=True)
    assert (isolated_home / "notes.txt").read_text() == "my home"
