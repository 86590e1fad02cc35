"""The extension module (crates/python); use the functions of projectrestore."""

from typing import Any, Callable, Dict, List, Optional, Tuple

__version__: str
SCHEMA: int

class Failure(Exception): ...

def call(
    command: str,
    options: Dict[str, Any],
    events: Optional[Callable[[Dict[str, Any]], Any]] = None,
    passphrase: Any = None,
    cancel: Any = None,
) -> Tuple[str, List[str]]: ...
