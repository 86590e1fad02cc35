"""4.x ``projectrestore.modules.extraction``."""

from .. import safe_extract_atomic

__all__ = ["safe_extract_atomic"]
