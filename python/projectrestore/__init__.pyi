"""Type stubs of projectrestore (the public API of __init__.py)."""

import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from .errors import (
    AccessDeniedError as AccessDeniedError,
    DecryptionError as DecryptionError,
    Interrupted as Interrupted,
    IOFailure as IOFailure,
    LimitExceededError as LimitExceededError,
    LockedError as LockedError,
    NotConfirmedError as NotConfirmedError,
    NotFoundError as NotFoundError,
    ProjectRestoreError as ProjectRestoreError,
    RefusedError as RefusedError,
    UnsafeArchiveError as UnsafeArchiveError,
    UsageError as UsageError,
    VerificationError as VerificationError,
)

__version__: str

PathArg = Union[str, os.PathLike[str]]
EventCallback = Callable[[Dict[str, Any]], Any]
Passphrase = Union[str, Callable[[str], Optional[str]], None]

LIMIT_KEYS: tuple[str, ...]

class _Document:
    def to_dict(self) -> Dict[str, Any]: ...
    def __getattr__(self, name: str) -> Any: ...

class Report(_Document):
    schema: int
    archive: str
    source: Dict[str, Any]
    size: int
    sha256: str
    layers: List[str]
    mode: str
    dry_run: bool
    encryption: Optional[str]
    checksum: Optional[Dict[str, Any]]
    signatures: Dict[str, Any]
    trust_store: Dict[str, Any]
    signatures_checked: str
    summary: Dict[str, int]
    destination: Optional[str]
    replaced_generation: Optional[str]
    generations: Optional[Dict[str, Any]]
    pruned: int
    filesystem: Optional[Dict[str, Any]]
    plan: Optional[Dict[str, Any]]
    preview: Optional[Dict[str, Any]]
    selected: Optional[Dict[str, Any]]
    entries: Optional[List[Dict[str, Any]]]
    log: Optional[Dict[str, Any]]
    duration_ms: int
    warnings: List[Dict[str, Any]]
    @property
    def verified(self) -> bool: ...
    @property
    def signers(self) -> List[str]: ...

class Preview(Report):
    added: List[Any]
    removed: List[Any]
    modified: List[Any]
    mode_changed: List[Any]
    unchanged: int
    totals: Dict[str, Any]

class Plan(_Document):
    schema: int
    action: str
    source: Dict[str, Any]
    passes: Any
    checks: Dict[str, Any]
    outer_format: Optional[str]
    layers_expected: List[str]
    identities: List[Any]
    extractor: Any
    target: Dict[str, Any]
    after: Any
    notes: List[str]
    pinned: Any

class Generation(_Document):
    number: int
    id: str
    path: str
    disk_bytes: Optional[int]
    meta: Dict[str, Any]
    archive: str
    sha256: str
    signers: List[str]
    time: str
    bytes: int
    files: int
    how: str
    replaced: Optional[str]

class History(_Document):
    schema: int
    destination: str
    disk_bytes: Optional[int]
    pending_recovery: bool
    @property
    def current(self) -> Optional[Generation]: ...
    @property
    def generations(self) -> List[Generation]: ...

class RollbackReport(_Document):
    schema: int
    destination: str
    from_generation: str
    restored: Dict[str, Any]
    replaced_generation: Optional[str]
    pruned: int

class PruneReport(_Document):
    schema: int
    destination: str
    removed: int
    kept: int

class Recovery(_Document):
    schema: int
    destination: str
    swap: str
    removed_staging: int

class Backup(_Document):
    path: str
    name: str
    size: int
    archive_time: Optional[str]
    modified: str
    sidecars: List[str]

class LogVerification(_Document):
    schema: int
    origin: str
    size: int
    root: str
    key: str
    key_source: str
    consistent_with: Optional[int]
    uncommitted_bytes: int
    warnings: List[str]

class LogProof(_Document):
    schema: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: List[str]
    checkpoint: str
    entry: str

class LogAppended(_Document):
    schema: int
    index: int
    appended: bool
    tree_size: int
    sha256: str
    checkpoint: str
    warnings: List[Dict[str, Any]]

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
) -> Report: ...

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
) -> Report: ...

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
) -> Report: ...

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
) -> Plan: ...

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
) -> Preview: ...

def list_backups(
    backup_dir: Optional[PathArg] = None,
    pattern: Optional[str] = None,
    *,
    store_options: Optional[Mapping[str, str]] = None,
) -> List[Backup]: ...

def history(dest: PathArg) -> History: ...

def rollback(
    dest: PathArg,
    *,
    generation: Union[None, int, str] = None,
    before: Optional[str] = None,
    keep: int = 5,
    wait: bool = False,
    events: Optional[EventCallback] = None,
) -> RollbackReport: ...

def prune(
    dest: PathArg,
    *,
    keep: Optional[int] = None,
    older_than: Optional[str] = None,
    wait: bool = False,
) -> PruneReport: ...

def recover(dest: PathArg) -> Recovery: ...

def log_verify(
    log: PathArg, *, checkpoint: Optional[PathArg] = None, vkey: Optional[str] = None
) -> LogVerification: ...

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
) -> LogAppended: ...

def log_prove(
    log: PathArg,
    archive: Optional[PathArg] = None,
    *,
    index: Optional[int] = None,
    vkey: Optional[str] = None,
    tlog_proof: Optional[PathArg] = None,
) -> LogProof: ...

def find_latest_backup(backup_dir: PathArg, pattern: str = "*.tar*") -> Optional[Path]: ...

def compute_sha256(path: PathArg, chunk_size: int = 4 * 1024 * 1024) -> str: ...

def verify_sha256_from_file(archive: PathArg, checksum_file: PathArg) -> bool: ...

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
) -> Report: ...
