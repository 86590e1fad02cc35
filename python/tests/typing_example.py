"""Every public function, as a script would call it: `mypy --strict` checks
this file against the installed package's stubs (test_typing.py). It is type
checked, not run."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import projectrestore
from projectrestore.modules.checksum import compute_sha256, verify_sha256_from_file
from projectrestore.modules.extraction import safe_extract_atomic
from projectrestore.modules.utils import find_latest_backup


def ask(what: str) -> Optional[str]:
    return "secret" if what else None


def on_event(event: Dict[str, Any]) -> None:
    print(event["event"])


def main(archive: Path, dest: Path, log: Path, key: Path) -> None:
    cancel = threading.Event()
    r: projectrestore.Report = projectrestore.restore(
        archive, dest, trust=["keys/"], threshold=1, identities=["id.txt"], passphrase=ask,
        strip_components=1, keep=3, limits={"max_files": 10, "max_bytes": "1G"},
        events=on_event, cancel=cancel, store_options={"aws_region": "eu-west-1"},
    )
    signers: List[str] = r.signers
    files: int = r.summary["files"]
    ok: bool = r.verified
    v = projectrestore.verify(archive, allow_unsigned=True, single_pass=True)
    entries = projectrestore.ls(archive, allow_unsigned=True).entries
    plan: projectrestore.Plan = projectrestore.plan(archive, dest, allow_unsigned=True)
    pv: projectrestore.Preview = projectrestore.preview(archive, dest, diff=True,
                                                        allow_unsigned=True)
    added: List[Any] = pv.added
    backups: List[projectrestore.Backup] = projectrestore.list_backups(Path("backups"), "*.tar.gz")
    h = projectrestore.history(dest)
    gens: List[projectrestore.Generation] = h.generations
    cur: Optional[projectrestore.Generation] = h.current
    rb: projectrestore.RollbackReport = projectrestore.rollback(dest, generation=1)
    rb2 = projectrestore.rollback(dest, before="2h")
    pr: projectrestore.PruneReport = projectrestore.prune(dest, keep=2, older_than="30days")
    rec: projectrestore.Recovery = projectrestore.recover(dest)
    lv: projectrestore.LogVerification = projectrestore.log_verify(log, vkey="origin+1234+AAAA")
    la: projectrestore.LogAppended = projectrestore.log_append(log, archive, key=key,
                                                               project="demo")
    lp: projectrestore.LogProof = projectrestore.log_prove(log, archive, tlog_proof="p")
    latest: Optional[Path] = find_latest_backup(Path("backups"), "*.tar.gz")
    digest: str = compute_sha256(archive)
    same: bool = verify_sha256_from_file(archive, Path(str(archive) + ".sha256"))
    report: projectrestore.Report = safe_extract_atomic(archive, dest, max_files=10,
                                                        dry_run=True, allow_unsigned=True)
    d: Dict[str, Any] = report.to_dict()
    try:
        projectrestore.restore(archive, dest)
    except projectrestore.VerificationError as e:
        verdicts: List[Dict[str, Any]] = e.signatures
        print(e.message, e.hint, e.exit_code, verdicts)
    except projectrestore.LimitExceededError as e:
        print(e.limit)
    except projectrestore.UnsafeArchiveError as e:
        print(e.entry, e.rule)
    except (projectrestore.DecryptionError, projectrestore.LockedError,
            projectrestore.Interrupted, projectrestore.UsageError) as e:
        print(e.category)
    except FileNotFoundError as e:
        print(e.errno)
    print(signers, files, ok, v, entries, plan, added, backups, gens, cur, rb, rb2, pr, rec,
          lv, la, lp, latest, digest, same, d)
