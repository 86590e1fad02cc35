"""The exceptions of projectrestore: one tree that mirrors the tool's exit codes.

Every failure of the library is a :class:`ProjectRestoreError` with the same
``message`` and ``hint`` the command line prints, its ``exit_code`` and its
``category``. I/O failures are also the builtin ``FileNotFoundError``,
``PermissionError`` or ``OSError`` (with ``errno`` set), so ``except OSError``
works as it does for any file operation.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

__all__ = [
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
]


class ProjectRestoreError(Exception):
    """A restore, verification or other command failed; nothing was changed
    unless the message says otherwise.

    ``message`` is the sentence the command line prints after ``error:``;
    ``hint`` says what to do (or is ``None``); ``exit_code`` is the CLI's exit
    code for it (DESIGN.md); ``category`` its class (``"verification"``, ...).
    """

    exit_code: int = 1
    category: str = "error"

    def __init__(self, message: str, hint: Optional[str] = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details: Dict[str, Any] = details

    def __str__(self) -> str:
        return self.message


class VerificationError(ProjectRestoreError):
    """Exit 4: the archive is not what its signatures or checksum say, or the
    log does not vouch for it. ``signatures`` holds the verdict of every
    signature checked (the ``--json`` report's objects) and ``outcome`` the
    policy's decision, when the run got that far."""

    exit_code = 4
    category = "verification"

    @property
    def signatures(self) -> List[Dict[str, Any]]:
        return list(self.details.get("signatures") or [])

    @property
    def outcome(self) -> Optional[Dict[str, Any]]:
        o = self.details.get("outcome")
        return dict(o) if isinstance(o, dict) else None


class UnsafeArchiveError(ProjectRestoreError):
    """Exit 5: the archive was refused before anything reached the destination.
    For a refused entry, ``entry`` names it and ``rule`` says which rule it broke."""

    exit_code = 5
    category = "unsafe"

    @property
    def entry(self) -> Optional[str]:
        return self.details.get("entry")

    @property
    def rule(self) -> Optional[str]:
        return self.details.get("rule")


class LimitExceededError(UnsafeArchiveError):
    """Exit 5: a resource limit would be exceeded (``limit``: what, value, limit);
    raise it with ``limits={...}`` if you trust the archive."""

    @property
    def limit(self) -> Optional[Dict[str, Any]]:
        lim = self.details.get("limit")
        return dict(lim) if isinstance(lim, dict) else None


class DecryptionError(ProjectRestoreError):
    """Exit 6: no identity or passphrase opened the archive, or it is damaged."""

    exit_code = 6
    category = "decryption"


class LockedError(ProjectRestoreError):
    """Exit 3: another restore of this destination holds its lock (``wait=True`` waits)."""

    exit_code = 3
    category = "locked"


class Interrupted(ProjectRestoreError):
    """Exit 2: the run was cancelled (``cancel=`` was set); nothing was changed.
    (Ctrl-C raises the ordinary ``KeyboardInterrupt``, after the same cleanup.)"""

    exit_code = 2
    category = "interrupted"


class NotConfirmedError(ProjectRestoreError):
    """Exit 1: replacing what is there needs a yes (``yes=True``): the
    destination is a non-empty directory projectrestore did not make."""


class RefusedError(ProjectRestoreError):
    """Exit 1: the destination is never replaced (the root, your home or the
    current directory, or above them), or its state cannot be trusted."""


class UsageError(ProjectRestoreError, ValueError):
    """Exit 64: the arguments cannot work together, or a settings value is wrong."""

    exit_code = 64
    category = "usage"


class _OSFailure:
    """An I/O failure that is also the builtin OSError subclass its errno names."""

    message: str

    def __init__(self, message: str, hint: Optional[str] = None, **details: Any) -> None:
        _init_os_error(self, message, hint, details)

    def __str__(self) -> str:
        return self.message


class NotFoundError(_OSFailure, ProjectRestoreError, FileNotFoundError):
    """Exit 1: a file or object that must exist does not (``errno`` ENOENT)."""


class AccessDeniedError(_OSFailure, ProjectRestoreError, PermissionError):
    """Exit 1: permission was denied (``errno`` EACCES or EPERM)."""


class IOFailure(_OSFailure, ProjectRestoreError, OSError):
    """Exit 1: another I/O failure (``errno`` set when the system gave one)."""


def _init_os_error(
    e: Any, message: str, hint: Optional[str], details: Dict[str, Any]
) -> None:
    err = details.get("errno")
    filename = details.get("filename")
    if err is not None and filename is not None:
        OSError.__init__(e, err, message, filename)
    elif err is not None:
        OSError.__init__(e, err, message)
    else:
        OSError.__init__(e, message)
    e.message = message  # type: ignore[attr-defined]
    e.hint = hint  # type: ignore[attr-defined]
    e.details = details  # type: ignore[attr-defined]


_BY_CATEGORY = {
    "verification": VerificationError,
    "unsafe": UnsafeArchiveError,
    "decryption": DecryptionError,
    "locked": LockedError,
    "interrupted": Interrupted,
    "usage": UsageError,
}


def _from_failure(payload: str) -> ProjectRestoreError:
    """The typed exception for the extension module's failure document."""
    doc = json.loads(payload)
    category = doc.get("category", "error")
    message = doc.get("message", "")
    hint = doc.get("hint")
    details = {
        k: v
        for k, v in doc.items()
        if k not in ("category", "message", "hint", "exit_code", "kind")
    }
    cls: type
    if category == "unsafe" and "limit" in doc:
        cls = LimitExceededError
    elif doc.get("kind") == "not-confirmed":
        cls = NotConfirmedError
    elif doc.get("kind") == "refused":
        cls = RefusedError
    elif category in _BY_CATEGORY:
        cls = _BY_CATEGORY[category]
    else:
        errno_ = doc.get("errno")
        if errno_ == 2:
            cls = NotFoundError
        elif errno_ in (1, 13):
            cls = AccessDeniedError
        elif errno_ is not None:
            cls = IOFailure
        else:
            cls = ProjectRestoreError
    e = cls(message, hint, **details)
    e.exit_code = int(doc.get("exit_code", cls.exit_code))
    e.category = category
    return e
