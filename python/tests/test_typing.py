"""The type stubs: `mypy --strict` passes on a script that uses every
function, and the README's example, against the installed package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

HERE = Path(__file__).resolve().parent


def test_mypy_strict_on_every_function() -> None:
    for script in (HERE / "typing_example.py", REPO / "examples/python/restore_demo.py"):
        p = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                            str(script)], capture_output=True, text=True, cwd="/")
        assert p.returncode == 0, p.stdout + p.stderr


def test_the_readme_example_runs(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    p = subprocess.run([sys.executable, str(REPO / "examples/python/restore_demo.py"), str(dest)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "signatures: verified" in p.stdout
    assert "restored 6 files" in p.stdout
    assert (dest / "README.md").exists()
