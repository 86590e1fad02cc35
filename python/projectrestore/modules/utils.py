"""4.x ``projectrestore.modules.utils``."""

from .. import find_latest_backup

__all__ = ["find_latest_backup"]
