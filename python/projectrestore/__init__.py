"""projectrestore: restore project backups that trust nothing, from Python.

The same library as the ``projectrestore`` command (a Rust extension module,
not a wrapper around the binary): it verifies detached signatures (OpenPGP,
minisign, SSH, signify) against trusted keys, decrypts age or OpenPGP as a
stream, validates every tar entry, and swaps the result into place atomically
under a lock, keeping the old tree for :func:`rollback`.

Every function takes keyword-only options named as the command line's flags
are (``--allow-unsigned`` is ``allow_unsigned=True``) and returns a frozen
result whose :meth:`to_dict` is the document ``--json`` prints. Failures raise
:class:`ProjectRestoreError` subclasses that mirror the exit codes, with the
CLI's message and hint. Long work releases the GIL; Ctrl-C cancels it cleanly
(staging removed, destination untouched, lock released) and raises
``KeyboardInterrupt``. When ``trust`` is not given, the trust store is found as
on the command line (the settings' ``trust``, else
``~/.config/projectrestore/keys``) and the settings' ``threshold`` is a floor;
no other setting and no ``PROJECTRESTORE_*`` variable is read: a call does what
its arguments say.

    import projectrestore
    report = projectrestore.restore(
        "backups/2026-11-24_120000-demo-initial.tar.gz.age", "restored",
        trust=["keys/"], identities=["age-identity.txt"], strip_components=1)
    print(report.signers, report.summary["files"])
"""

from __future__ import annotations

import copy as _copy
import json as _json
import os
import warnings as _warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _projectrestore
from .errors import (
    AccessDeniedError,
    DecryptionError,
    Interrupted,
    IOFailure,
    LimitExceededError,
    LockedError,
    NotConfirmedError,
    NotFoundError,
    ProjectRestoreError,
    RefusedError,
    UnsafeArchiveError,
    UsageError,
    VerificationError,
    _from_failure,
)
from .results import (
    Backup,
    Generation,
    History,
    LogAppended,
    LogProof,
    LogVerification,
    Plan,
    Preview,
    PruneReport,
    Recovery,
    Report,
    RollbackReport,
)

__version__: str = _projectrestore.__version__

__all__ = [
    "restore",
    "verify",
    "ls",
    "plan",
    "preview",
    "list_backups",
    "history",
    "rollback",
    "prune",
    "recover",
    "log_verify",
    "log_append",
    "log_prove",
    "find_latest_backup",
    "compute_sha256",
    "verify_sha256_from_file",
    "safe_extract_atomic",
    "Report",
    "Preview",
    "Plan",
    "Generation",
    "History",
    "RollbackReport",
    "PruneReport",
    "Recovery",
    "Backup",
    "LogVerification",
    "LogProof",
    "LogAppended",
    "ProjectRestoreError",
    "VerificationError",
    "UnsafeArchiveError",
    "LimitExceededError",
    "DecryptionError",
    "LockedError",
    "Interrupted",
    "UsageError",
    "NotConfirmedError",
    "RefusedError",
    "NotFoundError",
    "AccessDeniedError",
    "IOFailure",
    "LIMIT_KEYS",
]

PathArg = Union[str, "os.PathLike[str]"]
EventCallback = Callable[[Dict[str, Any]], Any]
Passphrase = Union[str, Callable[[str], Optional[str]], None]

#: The keys ``limits=`` takes (the command line's ``--max-*`` flags); sizes
#: may be integers of bytes or text such as ``"10G"``.
LIMIT_KEYS = (
    "max_files",
    "max_bytes",
    "max_entry_size",
    "max_depth",
    "max_path_length",
    "max_name_length",
    "max_pax_size",
    "max_ratio",
    "max_zstd_window",
)


def _paths(value: Union[None, PathArg, Iterable[PathArg]]) -> Optional[List[PathArg]]:
    """A sequence of paths (one path is a sequence of one); empty is "not given"."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, os.PathLike)):
        return [value]  # type: ignore[list-item]
    out = list(value)
    return out or None


def _limits(limits: Optional[Mapping[str, Union[int, str]]]) -> Dict[str, Any]:
    if limits is None:
        return {}
    unknown = sorted(set(limits) - set(LIMIT_KEYS))
    if unknown:
        raise TypeError(
            f"limits: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(LIMIT_KEYS)}"
        )
    return dict(limits)


def _call(
    command: str,
    options: Dict[str, Any],
    *,
    events: Optional[EventCallback] = None,
    passphrase: Passphrase = None,
    cancel: Any = None,
) -> Any:
    if events is not None and not callable(events):
        raise TypeError("events= must be a callable that takes one dict")
    try:
        text, notes, late = _projectrestore.call(command, options, events, passphrase, cancel)
    except _projectrestore.Failure as f:
        error = _from_failure(str(f.args[0]))
        if events is not None:
            # The last event of a failed run, as the CLI's stream ends.
            events({"schema": _projectrestore.SCHEMA, "event": "failed", "category": error.category,
                    "exit_code": error.exit_code, "message": error.message,
                    "hint": error.hint})
        raise error from None
    doc = _json.loads(text)
    try:
        for n in notes:
            _warnings.warn(n, RuntimeWarning, stacklevel=3)
        if events is not None:
            events({"schema": _projectrestore.SCHEMA, "event": "finished", "report": _copy.deepcopy(doc)})
    except BaseException as e:  # noqa: B902 - re-raised below, with the result
        late = late or e
    if late is not None:
        # Ctrl-C or an exception that came when the work had already finished:
        # it still propagates, and says that the command's result stands.
        late.projectrestore_result = doc
        if hasattr(late, "add_note"):
            late.add_note("projectrestore: the command had already finished; its result "
                          "stands (the exception's .projectrestore_result)")
        raise late
    return doc


def _check_options(
    *,
    trust: Union[None, PathArg, Iterable[PathArg]],
    threshold: int,
    allow_unsigned: bool,
    signatures: Union[None, PathArg, Iterable[PathArg]],
    checksum: Optional[PathArg],
    identities: Union[None, PathArg, Iterable[PathArg]],
    limits: Optional[Mapping[str, Union[int, str]]],
    store_options: Optional[Mapping[str, str]],
    gpg_agent: bool = False,
    ssh_namespace: str = "file",
    allow_legacy_minisign: bool = False,
    single_pass: bool = False,
    verify_first: bool = False,
    spool: Optional[PathArg] = None,
    sandbox: str = "auto",
) -> Dict[str, Any]:
    """The options the command line's CheckArgs holds (the rarer ones default
    as their flags do)."""
    o: Dict[str, Any] = {
        "trust": _paths(trust),
        "threshold": threshold,
        "allow_unsigned": allow_unsigned,
        "signatures": _paths(signatures),
        "checksum": checksum,
        "identities": _paths(identities),
        "gpg_agent": gpg_agent,
        "ssh_namespace": ssh_namespace,
        "allow_legacy_minisign": allow_legacy_minisign,
        "single_pass": single_pass,
        "verify_first": verify_first,
        "store_options": dict(store_options) if store_options else None,
        "spool": spool,
        "sandbox": sandbox,
    }
    o.update(_limits(limits))
    return o


def restore(
    archive: Optional[PathArg],
    to: PathArg,
    *,
    backup_dir: Optional[PathArg] = None,
    pattern: Optional[str] = None,
    trust: Union[None, PathArg, Sequence[PathArg]] = (),
    threshold: int = 1,
    allow_unsigned: bool = False,
    signatures: Sequence[PathArg] = (),
    checksum: Optional[PathArg] = None,
    identities: Union[PathArg, Sequence[PathArg]] = (),
    passphrase: Passphrase = None,
    gpg_agent: bool = False,
    ssh_namespace: str = "file",
    allow_legacy_minisign: bool = False,
    strip_components: int = 0,
    keep_permissions: bool = False,
    keep: int = 5,
    dry_run: bool = False,
    single_pass: bool = False,
    verify_first: bool = False,
    yes: bool = False,
    wait: bool = False,
    same_owner: bool = False,
    follow_dest_symlink: bool = False,
    paths: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    replace_with_selection: bool = False,
    limits: Optional[Mapping[str, Union[int, str]]] = None,
    store_options: Optional[Mapping[str, str]] = None,
    spool: Optional[PathArg] = None,
    sandbox: str = "auto",
    require_anchored: Optional[PathArg] = None,
    log_vkey: Optional[str] = None,
    allow_older: bool = False,
    project: Optional[str] = None,
    anchor: Optional[PathArg] = None,
    log_key: Optional[PathArg] = None,
    events: Optional[EventCallback] = None,
    cancel: Any = None,
) -> Report:
    """Verify, decrypt and restore ``archive`` into ``to``, atomically.

    ``archive`` is a path or an ``s3://``, ``gs://``, ``az://`` URL (with
    ``store_options={...}``); ``None`` restores the newest archive in
    ``backup_dir`` matching ``pattern``. With a trust store (``trust=`` or the
    default one) the archive must carry ``threshold`` good signatures by
    trusted keys unless ``allow_unsigned=True``. ``passphrase`` is a ``str``
    or a callable asked (with what it is for) only when one is needed.
    ``yes=True`` replaces a non-empty directory projectrestore did not make.
    ``events`` receives every event as a dict (the ``--events`` schema, progress
    at most every 100 ms) on the calling thread; an exception it raises
    cancels the restore and propagates. ``cancel`` may be a
    ``threading.Event``: setting it cancels (raising :class:`Interrupted`).
    ``sandbox`` is ``"auto"`` (unauthenticated bytes are parsed in the Wasm
    sandbox), ``"wasm"`` or ``"native"``, as ``--sandbox``.
    Returns the report ``restore --json`` prints.
    """
    o = _check_options(
        trust=trust, threshold=threshold, allow_unsigned=allow_unsigned,
        signatures=signatures, checksum=checksum, identities=identities,
        gpg_agent=gpg_agent, ssh_namespace=ssh_namespace,
        allow_legacy_minisign=allow_legacy_minisign, single_pass=single_pass,
        verify_first=verify_first, limits=limits, store_options=store_options, spool=spool,
        sandbox=sandbox,
    )
    o.update(
        archive=archive, to=to, backup_dir=backup_dir, pattern=pattern,
        strip_components=strip_components, keep_permissions=keep_permissions, keep=keep,
        dry_run=dry_run, yes=yes, wait=wait, same_owner=same_owner,
        follow_dest_symlink=follow_dest_symlink, paths=list(paths) or None,
        include=list(include) or None, exclude=list(exclude) or None,
        replace_with_selection=replace_with_selection, require_anchored=require_anchored,
        log_vkey=log_vkey, allow_older=allow_older, project=project, anchor=anchor,
        log_key=log_key,
    )
    return Report(_call("restore", o, events=events, passphrase=passphrase, cancel=cancel))


def verify(
    archive: PathArg,
    *,
    trust: Union[None, PathArg, Sequence[PathArg]] = (),
    threshold: int = 1,
    allow_unsigned: bool = False,
    signatures: Sequence[PathArg] = (),
    checksum: Optional[PathArg] = None,
    identities: Union[PathArg, Sequence[PathArg]] = (),
    passphrase: Passphrase = None,
    gpg_agent: bool = False,
    ssh_namespace: str = "file",
    allow_legacy_minisign: bool = False,
    single_pass: bool = False,
    verify_first: bool = False,
    limits: Optional[Mapping[str, Union[int, str]]] = None,
    store_options: Optional[Mapping[str, str]] = None,
    spool: Optional[PathArg] = None,
    require_anchored: Optional[PathArg] = None,
    log_vkey: Optional[str] = None,
    allow_older: bool = False,
    project: Optional[str] = None,
    events: Optional[EventCallback] = None,
    cancel: Any = None,
) -> Report:
    """Check ``archive`` completely (signatures, checksum, decryption, every
    entry) without writing anything. Returns the report ``verify --json`` prints."""
    o = _check_options(
        trust=trust, threshold=threshold, allow_unsigned=allow_unsigned,
        signatures=signatures, checksum=checksum, identities=identities,
        gpg_agent=gpg_agent, ssh_namespace=ssh_namespace,
        allow_legacy_minisign=allow_legacy_minisign, single_pass=single_pass,
        verify_first=verify_first, limits=limits, store_options=store_options, spool=spool,
    )
    o.update(archive=archive, require_anchored=require_anchored, log_vkey=log_vkey,
             allow_older=allow_older, project=project)
    return Report(_call("verify", o, events=events, passphrase=passphrase, cancel=cancel))


def ls(
    archive: PathArg,
    *,
    trust: Union[None, PathArg, Sequence[PathArg]] = (),
    threshold: int = 1,
    allow_unsigned: bool = False,
    signatures: Sequence[PathArg] = (),
    checksum: Optional[PathArg] = None,
    identities: Union[PathArg, Sequence[PathArg]] = (),
    passphrase: Passphrase = None,
    strip_components: int = 0,
    limits: Optional[Mapping[str, Union[int, str]]] = None,
    store_options: Optional[Mapping[str, str]] = None,
    events: Optional[EventCallback] = None,
    cancel: Any = None,
) -> Report:
    """Verify ``archive`` and list its entries (``report.entries``), as ``ls --json``."""
    o = _check_options(
        trust=trust, threshold=threshold, allow_unsigned=allow_unsigned,
        signatures=signatures, checksum=checksum, identities=identities,
        limits=limits, store_options=store_options,
    )
    o.update(archive=archive, strip_components=strip_components)
    return Report(_call("ls", o, events=events, passphrase=passphrase, cancel=cancel))


def plan(
    archive: Optional[PathArg],
    to: PathArg,
    *,
    backup_dir: Optional[PathArg] = None,
    pattern: Optional[str] = None,
    trust: Union[None, PathArg, Sequence[PathArg]] = (),
    threshold: int = 1,
    allow_unsigned: bool = False,
    signatures: Sequence[PathArg] = (),
    checksum: Optional[PathArg] = None,
    identities: Union[PathArg, Sequence[PathArg]] = (),
    strip_components: int = 0,
    keep: int = 5,
    yes: bool = False,
    single_pass: bool = False,
    verify_first: bool = False,
    limits: Optional[Mapping[str, Union[int, str]]] = None,
    store_options: Optional[Mapping[str, str]] = None,
    spool: Optional[PathArg] = None,
    require_anchored: Optional[PathArg] = None,
    anchor: Optional[PathArg] = None,
    log_key: Optional[PathArg] = None,
) -> Plan:
    """What :func:`restore` with these options would do, decided before any
    byte of the archive is read (``plan --json``)."""
    o = _check_options(
        trust=trust, threshold=threshold, allow_unsigned=allow_unsigned,
        signatures=signatures, checksum=checksum, identities=identities,
        single_pass=single_pass, verify_first=verify_first, limits=limits,
        store_options=store_options, spool=spool,
    )
    o.update(archive=archive, to=to, backup_dir=backup_dir, pattern=pattern,
             strip_components=strip_components, keep=keep, yes=yes,
             require_anchored=require_anchored, anchor=anchor, log_key=log_key)
    return Plan(_call("plan", o))


def preview(
    archive: Optional[PathArg],
    to: PathArg,
    *,
    diff: bool = False,
    backup_dir: Optional[PathArg] = None,
    pattern: Optional[str] = None,
    trust: Union[None, PathArg, Sequence[PathArg]] = (),
    threshold: int = 1,
    allow_unsigned: bool = False,
    signatures: Sequence[PathArg] = (),
    checksum: Optional[PathArg] = None,
    identities: Union[PathArg, Sequence[PathArg]] = (),
    passphrase: Passphrase = None,
    strip_components: int = 0,
    limits: Optional[Mapping[str, Union[int, str]]] = None,
    store_options: Optional[Mapping[str, str]] = None,
    events: Optional[EventCallback] = None,
    cancel: Any = None,
) -> Preview:
    """Verify ``archive`` and compare it with ``to`` without changing anything:
    what would be added, removed, modified (``diff=True`` compares contents)."""
    o = _check_options(
        trust=trust, threshold=threshold, allow_unsigned=allow_unsigned,
        signatures=signatures, checksum=checksum, identities=identities,
        limits=limits, store_options=store_options,
    )
    o.update(archive=archive, to=to, diff=diff, backup_dir=backup_dir, pattern=pattern,
             strip_components=strip_components)
    return Preview(_call("preview", o, events=events, passphrase=passphrase, cancel=cancel))


def list_backups(
    backup_dir: Optional[PathArg] = None,
    pattern: Optional[str] = None,
    *,
    store_options: Optional[Mapping[str, str]] = None,
) -> List[Backup]:
    """The archives in ``backup_dir`` (default ``~/project_backups``; a bucket
    prefix URL works too) matching ``pattern``, newest first."""
    o = {"backup_dir": backup_dir, "pattern": pattern,
         "store_options": dict(store_options) if store_options else None}
    doc = _call("list_backups", o)
    return [Backup(b) for b in doc["archives"]]


def history(dest: PathArg) -> History:
    """The tree in ``dest`` and the older generations kept for :func:`rollback`."""
    return History(_call("history", {"dest": dest}))


def rollback(
    dest: PathArg,
    *,
    generation: Union[None, int, str] = None,
    before: Optional[str] = None,
    keep: int = 5,
    wait: bool = False,
    events: Optional[EventCallback] = None,
) -> RollbackReport:
    """Put a kept generation back in place, atomically: the previous one, or
    ``generation`` (its number in :func:`history`, 1 = newest, or its id), or
    the newest put in place ``before`` a time (RFC 3339, or ``"2h"`` ago).
    Calling it is the confirmation."""
    g = None if generation is None else str(generation)
    return RollbackReport(_call(
        "rollback", {"dest": dest, "generation": g, "before": before, "keep": keep,
                     "wait": wait}, events=events))


def prune(
    dest: PathArg,
    *,
    keep: Optional[int] = None,
    older_than: Optional[str] = None,
    wait: bool = False,
) -> PruneReport:
    """Remove kept generations: beyond the newest ``keep``, or replaced longer
    ago than ``older_than`` (``"30days"``)."""
    return PruneReport(_call("prune", {"dest": dest, "keep": keep, "older_than": older_than,
                                       "wait": wait}))


def recover(dest: PathArg) -> Recovery:
    """Finish or undo a restore of ``dest`` that was interrupted (a crash, a
    power cut), and remove stale staging. With nothing to do, ``swap`` is ``"none"``."""
    return Recovery(_call("recover", {"dest": dest}))


def log_verify(
    log: PathArg, *, checkpoint: Optional[PathArg] = None, vkey: Optional[str] = None
) -> LogVerification:
    """Recompute the log's Merkle tree and check its signed checkpoint (and,
    with ``checkpoint``, that the log only grew since that older one)."""
    return LogVerification(_call("log_verify", {"log": log, "checkpoint": checkpoint,
                                                "vkey": vkey}))


def log_append(
    log: PathArg,
    archive: PathArg,
    *,
    key: PathArg,
    project: Optional[str] = None,
    trust: Union[None, PathArg, Sequence[PathArg]] = (),
    threshold: int = 1,
    allow_unsigned: bool = False,
    signatures: Sequence[PathArg] = (),
    checksum: Optional[PathArg] = None,
    identities: Union[PathArg, Sequence[PathArg]] = (),
    passphrase: Passphrase = None,
    limits: Optional[Mapping[str, Union[int, str]]] = None,
    store_options: Optional[Mapping[str, str]] = None,
    events: Optional[EventCallback] = None,
    cancel: Any = None,
) -> LogAppended:
    """Verify ``archive`` completely, then append its digest to the log and
    sign a new checkpoint with ``key``."""
    o = _check_options(
        trust=trust, threshold=threshold, allow_unsigned=allow_unsigned,
        signatures=signatures, checksum=checksum, identities=identities,
        limits=limits, store_options=store_options,
    )
    o.update(log=log, archive=archive, key=key, project=project)
    return LogAppended(_call("log_append", o, events=events, passphrase=passphrase,
                             cancel=cancel))


def log_prove(
    log: PathArg,
    archive: Optional[PathArg] = None,
    *,
    index: Optional[int] = None,
    vkey: Optional[str] = None,
    tlog_proof: Optional[PathArg] = None,
) -> LogProof:
    """An inclusion proof for ``archive`` (a file, or its hex SHA-256) or entry
    ``index``; ``tlog_proof`` also writes it in the tlog-proof format."""
    return LogProof(_call("log_prove", {"log": log, "archive": archive, "index": index,
                                        "vkey": vkey, "tlog_proof": tlog_proof}))


# The Python projectrestore 4.x functions scripts import
# (projectrestore.modules.{utils,checksum,extraction} re-export them too).


def find_latest_backup(backup_dir: PathArg, pattern: str = "*.tar*") -> Optional[Path]:
    """4.x: the newest archive in ``backup_dir`` matching ``pattern``, or
    ``None`` (also when the directory does not exist). Newest by projectclone's
    name date, then modification time."""
    if not os.path.isdir(backup_dir):
        return None
    found = list_backups(backup_dir, pattern)
    return Path(found[0].path) if found else None


def compute_sha256(path: PathArg, chunk_size: int = 4 * 1024 * 1024) -> str:
    """4.x: the SHA-256 of the file at ``path``, in hex (``chunk_size`` is
    accepted and ignored: the library reads in its own blocks, without the GIL)."""
    del chunk_size
    return str(_call("sha256", {"path": path}))


def verify_sha256_from_file(archive: PathArg, checksum_file: PathArg) -> bool:
    """4.x: does ``archive`` match the SHA-256 in ``checksum_file``
    (``sha256sum`` format)? ``False`` on a mismatch, and (as 4.x) when either
    file cannot be read or the checksum file is not usable."""
    try:
        return bool(_call("checksum_matches", {"archive": archive,
                                               "checksum_file": checksum_file}))
    except (VerificationError, OSError):
        # Unreadable files and an unusable checksum file: False, as 4.x.
        # A usage error (a URL for the checksum file) or a cancel is raised.
        return False


def safe_extract_atomic(
    tar_path: PathArg,
    dest_dir: PathArg,
    *,
    max_files: Optional[int] = None,
    max_bytes: Optional[int] = None,
    allow_pax: bool = True,
    reject_sparse: bool = True,
    dry_run: bool = False,
    allow_unsigned: bool = False,
) -> Report:
    """4.x: extract ``tar_path`` into ``dest_dir`` atomically, replacing what is
    there (the old tree is kept as a generation: :func:`rollback` brings it
    back). Unlike 4.x it keeps the zero-trust defaults: with a trust store
    (the default one, ``~/.config/projectrestore/keys``) the archive must be
    signed by a trusted key unless ``allow_unsigned=True``; every entry is
    validated, and a checksum sidecar is checked. PAX headers are always
    parsed and checked and sparse entries always refused, so
    ``allow_pax=False`` and ``reject_sparse=False`` are refused."""
    if not allow_pax:
        raise UsageError("allow_pax=False is not supported: PAX headers are parsed and validated like every other header", None)
    if not reject_sparse:
        raise UsageError("reject_sparse=False is not supported: sparse entries are always refused", None)
    limits: Dict[str, Union[int, str]] = {}
    if max_files is not None:
        limits["max_files"] = max_files
    if max_bytes is not None:
        limits["max_bytes"] = max_bytes
    return restore(tar_path, dest_dir, limits=limits or None, dry_run=dry_run,
                   allow_unsigned=allow_unsigned, yes=True)
