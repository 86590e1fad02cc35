"""Restore the demo backup from Python: the newest archive in fixtures/demo,
its minisign signature checked against keys/, its .sha256 compared, decrypted
with age, and swapped into place atomically.

    python examples/python/restore_demo.py [DEST]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, Dict

import projectrestore

repo = Path(__file__).resolve().parents[2]
demo = repo / "fixtures" / "demo"
dest = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "demo"

newest = projectrestore.list_backups(demo, "*.tar.gz.age")[0]
print(f"newest backup: {newest.name} ({newest.size} bytes, {', '.join(newest.sidecars)})")


def on_event(event: Dict[str, Any]) -> None:
    if event["event"] == "gate-decided":
        print(f"signatures: {event['outcome']['verdict']}")


try:
    report = projectrestore.restore(
        newest.path,
        dest,
        trust=[repo / "keys"],
        identities=[demo / "secret" / "demo-age-identity.txt"],
        strip_components=1,
        events=on_event,
    )
except projectrestore.VerificationError as e:
    sys.exit(f"refused: {e}\n  hint: {e.hint}")
except projectrestore.ProjectRestoreError as e:
    sys.exit(f"failed (exit {e.exit_code}): {e}")

print(
    f"restored {report.summary['files']} files into {report.destination}, "
    f"signed by {', '.join(report.signers)}; checksum matched: {bool(report.checksum and report.checksum['matched'])}"
)
current = projectrestore.history(dest).current
assert current is not None
print(f"history: current tree from {Path(current.archive).name}, put in place {current.time}")
