"""The Python projectrestore 4.x functions, on an archive made by the real
projectclone 4.0.1 (its published wheel imports a `src.common` package it does
not ship: the stub below stands in for it, with no ignore rules)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import projectrestore
from projectrestore.modules.checksum import compute_sha256, verify_sha256_from_file
from projectrestore.modules.extraction import safe_extract_atomic
from projectrestore.modules.utils import find_latest_backup
from conftest import REPO, make_tar, tree

STUB = {
    "src/__init__.py": "",
    "src/common/__init__.py": "",
    "src/common/b2.py": "",
    "src/common/s3.py": "",
    "src/common/manifest.py": "",
    "src/common/cas.py": "",
    "src/common/credentials.py": "",
    "src/common/ignore.py": (
        "class PathSpec:\n"
        "    def __init__(self, patterns):\n"
        "        self.patterns = list(patterns)\n"
        "    @classmethod\n"
        "    def from_lines(cls, lines):\n"
        "        return cls(lines)\n"
        "    def match_file(self, path, is_dir=False):\n"
        "        return False\n"
        "def parse_ignore_file(path):\n"
        "    return []\n"
    ),
}


@pytest.fixture
def projectclone_archive(tmp_path: Path) -> Path:
    """A backup of a small project by the real `projectclone NOTE --archive`."""
    exe = Path(sys.executable).with_name("projectclone")
    assert exe.exists(), "projectclone 4.0.1 is installed by python/requirements-test.txt"
    stub = tmp_path / "stub"
    for rel, text in STUB.items():
        (stub / rel).parent.mkdir(parents=True, exist_ok=True)
        (stub / rel).write_text(text)
    project = tmp_path / "myproj"
    (project / "src").mkdir(parents=True)
    (project / "README.md").write_text("# my project\n")
    (project / "src" / "main.py").write_text("print('hello')\n")
    os.symlink("README.md", project / "LINK.md")
    backups = tmp_path / "backups"
    backups.mkdir()
    env = {**os.environ, "PYTHONPATH": str(stub), "TERM": "dumb", "COLUMNS": "100"}
    p = subprocess.run([str(exe), "nightly", "--archive", "--symlinks", "--dest", str(backups),
                        "--yes"], cwd=project, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    (archive,) = backups.glob("*-myproj-nightly.tar.gz")
    return archive


def top_dir(archive: Path) -> str:
    """projectclone puts the tree in one folder named as the archive."""
    return archive.name[: -len(".tar.gz")]


def test_find_latest_backup(projectclone_archive: Path, tmp_path: Path) -> None:
    backups = projectclone_archive.parent
    # projectclone's log beside it is not an archive.
    assert find_latest_backup(backups, "*.tar.gz") == projectclone_archive
    assert projectrestore.find_latest_backup(backups, "*-other-*.tar.gz") is None
    assert find_latest_backup(tmp_path / "nowhere", "*.tar.gz") is None


def test_compute_and_verify_sha256(projectclone_archive: Path) -> None:
    expected = hashlib.sha256(projectclone_archive.read_bytes()).hexdigest()
    assert compute_sha256(projectclone_archive) == expected
    sums = projectclone_archive.with_name(projectclone_archive.name + ".sha256")
    sums.write_text(f"{expected}  {projectclone_archive.name}\n")
    assert verify_sha256_from_file(projectclone_archive, sums) is True
    sums.write_text(f"{'0' * 64}  {projectclone_archive.name}\n")
    assert verify_sha256_from_file(projectclone_archive, sums) is False
    assert verify_sha256_from_file(projectclone_archive, sums.with_name("missing")) is False


def test_safe_extract_atomic(projectclone_archive: Path, tmp_path: Path) -> None:
    dest = tmp_path / "restored"
    dest.mkdir()
    (dest / "old.txt").write_text("the tree before")
    report = safe_extract_atomic(projectclone_archive, dest, max_files=100, max_bytes=1 << 20)
    top = dest / top_dir(projectclone_archive)
    assert (top / "src" / "main.py").read_text() == "print('hello')\n"
    assert os.readlink(top / "LINK.md") == "README.md"
    assert not (dest / "old.txt").exists()
    assert report.summary["files"] == 2
    # The replaced tree is a generation: rollback brings it back.
    projectrestore.rollback(dest)
    assert (dest / "old.txt").read_text() == "the tree before"
    # dry_run writes nothing.
    before = tree(dest)
    safe_extract_atomic(projectclone_archive, dest, dry_run=True)
    assert tree(dest) == before


def test_safe_extract_atomic_keeps_the_zero_trust_defaults(
    projectclone_archive: Path, tmp_path: Path, isolated_home: Path
) -> None:
    # A trust store is configured (the default one): unsigned needs allow_unsigned.
    keys = isolated_home / ".config" / "projectrestore" / "keys"
    keys.mkdir(parents=True)
    shutil.copy(REPO / "keys" / "demo-minisign.pub", keys)
    dest = tmp_path / "restored"
    with pytest.raises(projectrestore.VerificationError, match="no signature"):
        safe_extract_atomic(projectclone_archive, dest)
    assert not dest.exists()
    safe_extract_atomic(projectclone_archive, dest, allow_unsigned=True)
    assert (dest / top_dir(projectclone_archive) / "README.md").exists()
    # Limits hold, and a hostile archive is refused before anything is written.
    with pytest.raises(projectrestore.LimitExceededError):
        safe_extract_atomic(projectclone_archive, tmp_path / "d2", max_files=1,
                            allow_unsigned=True)
    evil = make_tar(tmp_path / "evil.tar", [("/etc/passwd-owned", b"x")])
    with pytest.raises(projectrestore.UnsafeArchiveError):
        safe_extract_atomic(evil, tmp_path / "d3", allow_unsigned=True)
    assert not (tmp_path / "d3").exists()
    with pytest.raises(projectrestore.UsageError):
        safe_extract_atomic(projectclone_archive, tmp_path / "d4", allow_pax=False)
