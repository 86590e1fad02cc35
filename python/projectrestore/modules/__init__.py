"""The module names of the Python projectrestore 4.x, for scripts that import
them (``from projectrestore.modules.extraction import safe_extract_atomic``).
Each is a thin wrapper over the new library that keeps its zero-trust defaults."""
