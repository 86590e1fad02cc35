"""4.x ``projectrestore.modules.checksum``."""

from .. import compute_sha256, verify_sha256_from_file

__all__ = ["compute_sha256", "verify_sha256_from_file"]
