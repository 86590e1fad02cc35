"""Typed, frozen results. Each wraps the JSON document the command line's
``--json`` prints for the same command: its top-level keys are attributes, and
:meth:`to_dict` returns the document itself (a deep copy)."""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

__all__ = [
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
]


class _Document:
    """A frozen view of one JSON document."""

    __slots__ = ("_data",)
    #: The keys shown by ``repr``.
    _shown: tuple = ()

    def __init__(self, data: Dict[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "_data")
        if name in data:
            return copy.deepcopy(data[name])
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._data))

    def to_dict(self) -> Dict[str, Any]:
        """The document ``--json`` prints for this result."""
        return copy.deepcopy(self._data)

    def __reduce__(self) -> Any:
        return (type(self), (self.to_dict(),))

    def __copy__(self) -> "_Document":
        return self

    def __deepcopy__(self, memo: Dict[int, Any]) -> "_Document":
        return type(self)(copy.deepcopy(self._data, memo))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(self._data == other._data)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={self._data.get(k)!r}" for k in self._shown if k in self._data
        )
        return f"{type(self).__name__}({shown})"


class Report(_Document):
    """What a restore, verification or listing did (``restore --json``)."""

    __slots__ = ()
    _shown = ("archive", "destination", "sha256", "mode", "summary")

    @property
    def verified(self) -> bool:
        """Did the trusted signatures meet the policy?"""
        sig = self._data.get("signatures") or {}
        outcome = sig.get("outcome") or {}
        return bool(outcome.get("verdict") == "verified")

    @property
    def signers(self) -> List[str]:
        """The distinct trusted signers that vouched for the archive."""
        sig = self._data.get("signatures") or {}
        outcome = sig.get("outcome") or {}
        return list(outcome.get("signers") or [])


class Preview(Report):
    """What a restore would change (``preview --json``): the report, and its
    ``preview`` object's keys (``added``, ``removed``, ``modified``,
    ``mode_changed``, ``unchanged``, ``totals``) as attributes too."""

    __slots__ = ()
    _shown = ("archive", "destination", "totals")

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "_data")
        preview = data.get("preview") or {}
        if name in preview and name not in data:
            return copy.deepcopy(preview[name])
        return super().__getattr__(name)

    def __repr__(self) -> str:
        totals = (self._data.get("preview") or {}).get("totals")
        return (
            f"Preview(archive={self._data.get('archive')!r}, "
            f"destination={self._data.get('destination')!r}, totals={totals!r})"
        )


class Plan(_Document):
    """What a restore would do, decided before any byte is read (``plan --json``)."""

    __slots__ = ()
    _shown = ("action", "passes", "extractor")


class Generation(_Document):
    """One tree ``history`` knows: the current one, or a kept older one
    (``number``, ``id``, ``path``, ``disk_bytes``, and its ``meta``)."""

    __slots__ = ()
    _shown = ("number", "id", "archive", "time")

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "_data")
        meta = data.get("meta")
        if isinstance(meta, dict) and name in meta and name not in data:
            return copy.deepcopy(meta[name])
        return super().__getattr__(name)

    def __repr__(self) -> str:
        meta = self._data.get("meta") or self._data
        return (
            f"Generation(number={self._data.get('number')!r}, id={self._data.get('id')!r}, "
            f"archive={meta.get('archive')!r}, time={meta.get('time')!r})"
        )


class History(_Document):
    """The destination's current tree and its kept generations (``history --json``)."""

    __slots__ = ()
    _shown = ("destination", "disk_bytes", "pending_recovery")

    @property
    def current(self) -> Optional[Generation]:
        c = self._data.get("current")
        return Generation(copy.deepcopy(c)) if isinstance(c, dict) else None

    @property
    def generations(self) -> List[Generation]:
        return [Generation(copy.deepcopy(g)) for g in self._data.get("generations") or []]

    def __repr__(self) -> str:
        return (
            f"History(destination={self._data.get('destination')!r}, "
            f"generations={len(self._data.get('generations') or [])})"
        )


class RollbackReport(_Document):
    """What ``rollback`` put back (``rollback --json``)."""

    __slots__ = ()
    _shown = ("destination", "from_generation", "replaced_generation")


class PruneReport(_Document):
    """What ``prune`` removed (``prune --json``)."""

    __slots__ = ()
    _shown = ("destination", "removed", "kept")


class Recovery(_Document):
    """What ``recover`` did to an interrupted restore (``recover --json``)."""

    __slots__ = ()
    _shown = ("destination", "swap", "removed_staging")


class Backup(_Document):
    """One archive of a backup directory or bucket prefix (a row of ``list --json``)."""

    __slots__ = ()
    _shown = ("name", "size", "archive_time", "sidecars")


class LogVerification(_Document):
    """The log checked (``log verify --json``)."""

    __slots__ = ()
    _shown = ("origin", "size", "root")


class LogProof(_Document):
    """An inclusion proof (``log prove --json``)."""

    __slots__ = ()
    _shown = ("leaf_index", "tree_size")


class LogAppended(_Document):
    """An archive verified and appended to the log (``log append --json``)."""

    __slots__ = ()
    _shown = ("index", "appended", "tree_size")
