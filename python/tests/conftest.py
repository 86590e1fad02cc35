"""Shared fixtures of the Python tests. They run against the installed wheel
(scripts/python-test.sh builds it, installs it into a fresh venv and runs
pytest from the repository root), and beside the CLI built by cargo."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
CRYPTO = FIXTURES / "crypto"
DEMO = FIXTURES / "demo"


def cli_binary() -> Path:
    explicit = os.environ.get("PROJECTRESTORE_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "projectrestore"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the user's default trust store or backups."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    for k in list(os.environ):
        if k.startswith("PROJECTRESTORE_") and k not in ("PROJECTRESTORE_BIN",):
            monkeypatch.delenv(k)
    return home


def run_cli(*args: object) -> Tuple[int, Dict[str, object], str]:
    """The CLI with ``--json``: exit code, its document, standard error."""
    binary = cli_binary()
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: build it with `cargo build` first")
    p = subprocess.run(
        [str(binary), *map(str, args), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    doc = json.loads(p.stdout) if p.stdout.strip() else {}
    return p.returncode, doc, p.stderr


def tree(root: Path) -> Dict[str, Tuple[str, int, str]]:
    """Every entry under ``root``: kind, permission bits, content digest or link target."""
    out: Dict[str, Tuple[str, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = p.lstat()
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", mode, "")
            else:
                out[rel] = ("file", mode, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def normalized(doc: Dict[str, object]) -> Dict[str, object]:
    """A report without what differs between any two runs (time taken) and
    between the CLI and Python (where it was restored to, and how the trust
    store was given: ``--trust`` or ``trust=``)."""
    d = json.loads(json.dumps(doc))
    d.pop("duration_ms", None)
    d.pop("destination", None)
    for holder in (d, d.get("checks")):
        if isinstance(holder, dict) and isinstance(holder.get("trust_store"), dict):
            holder["trust_store"].pop("origin", None)
    return d


def make_tar(path: Path, entries: List[Tuple[str, bytes]], *, mode: str = "w") -> Path:
    """A tar made by Python's tarfile (regular files; names as given)."""
    with tarfile.open(path, mode) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            import io

            t.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def crypto_copy(tmp_path: Path) -> Iterator[Path]:
    """A private copy of fixtures/crypto (tests may tamper with it)."""
    dst = tmp_path / "crypto"
    shutil.copytree(CRYPTO, dst, symlinks=True)
    yield dst
