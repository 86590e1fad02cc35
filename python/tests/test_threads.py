"""Long work releases the GIL; Ctrl-C and a raising events callback cancel a
restore cleanly: staging removed, destination byte-for-byte unchanged, lock
released (recover() finds nothing to do, a next restore takes the lock)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

import projectrestore
from conftest import CRYPTO, DEMO, make_tar, tree


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uncompressed tar of 400 files of 512 KiB (200 MiB): long enough to
    interrupt in the middle."""
    d = tmp_path_factory.mktemp("big")
    block = os.urandom(512 << 10)
    entries = [(f"proj/data/{i:04}.bin", block[i:] + block[:i]) for i in range(400)]
    return make_tar(d / "big.tar", entries)


def managed_dest(tmp_path: Path) -> Path:
    """A destination restored before (a managed tree) with its contents known."""
    dest = tmp_path / "dest"
    projectrestore.restore(CRYPTO / "data.tar.gz", dest, allow_unsigned=True)
    return dest


def no_staging_left(dest: Path) -> None:
    state = dest.parent / f".{dest.name}.projectrestore"
    leftovers = [p.name for p in state.iterdir() if p.name.startswith("staging")]
    assert leftovers == [], leftovers


def test_other_threads_run_during_a_restore(tmp_path: Path, big_archive: Path) -> None:
    counter = [0]
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        time.sleep(0.05)
        start = counter[0]
        began = time.monotonic()
        projectrestore.restore(big_archive, tmp_path / "d", allow_unsigned=True)
        took = time.monotonic() - began
        advanced = counter[0] - start
    finally:
        stop.set()
        t.join()
    # A thread that held the GIL for the whole restore would leave the counter
    # where it was; a released GIL lets it count millions of times.
    assert advanced > 10_000, (advanced, took)


def test_keyboard_interrupt_cancels_cleanly(tmp_path: Path, big_archive: Path) -> None:
    dest = managed_dest(tmp_path)
    before = tree(dest)
    seen: List[str] = []

    def interrupt_when_writing(e: Dict[str, Any]) -> None:
        seen.append(e["event"])
        if e["event"] == "progress" and e.get("phase") == "restoring" and e["bytes"] > 0:
            if seen.count("interrupt-sent") == 0:
                seen.append("interrupt-sent")
                # From another thread, as a terminal's Ctrl-C would arrive.
                threading.Thread(target=signal.raise_signal, args=(signal.SIGINT,)).start()

    with pytest.raises(KeyboardInterrupt):
        projectrestore.restore(big_archive, dest, allow_unsigned=True,
                               events=interrupt_when_writing)
    assert "interrupt-sent" in seen, seen
    assert tree(dest) == before
    no_staging_left(dest)
    rec = projectrestore.recover(dest)
    assert rec.swap == "none" and rec.removed_staging == 0
    # The lock was released: the next restore takes it at once.
    projectrestore.restore(big_archive, dest, allow_unsigned=True, yes=True)
    assert (dest / "proj/data/0399.bin").exists()


def test_an_exception_in_the_events_callback_cancels(tmp_path: Path, big_archive: Path) -> None:
    dest = managed_dest(tmp_path)
    before = tree(dest)

    class Enough(Exception):
        pass

    def callback(e: Dict[str, Any]) -> None:
        if e["event"] == "progress" and e.get("phase") == "restoring":
            raise Enough("stop here")

    with pytest.raises(Enough, match="stop here"):
        projectrestore.restore(big_archive, dest, allow_unsigned=True, events=callback)
    assert tree(dest) == before
    no_staging_left(dest)
    assert projectrestore.recover(dest).swap == "none"


def test_events_follow_the_cli_schema(tmp_path: Path) -> None:
    events: List[Dict[str, Any]] = []
    r = projectrestore.restore(CRYPTO / "data.tar.gz", tmp_path / "d", allow_unsigned=True,
                               events=events.append)
    names = [e["event"] for e in events]
    assert names[0] == "started" and names[-1] == "finished"
    assert "committed" in names
    assert all(e["schema"] == 1 for e in events)
    assert events[-1]["report"] == r.to_dict()
    failed: List[Dict[str, Any]] = []
    with pytest.raises(projectrestore.VerificationError):
        projectrestore.restore(DEMO / "2026-11-23_090000-demo-older.tar.gz", tmp_path / "e",
                               trust=[CRYPTO / "trust"], events=failed.append)
    assert failed[-1]["event"] == "failed" and failed[-1]["exit_code"] == 4


def test_the_library_installs_no_signal_handler(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    projectrestore.restore(CRYPTO / "data.tar.gz", tmp_path / "d", allow_unsigned=True)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
