"""The Jinja2 environment of the package's HTML templates (reports and the dashboard page)."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    select_autoescape,
)

from comove.config import user_cache_dir


def _bytecode_cache() -> BytecodeCache | None:
    """Compiled templates kept in the user cache (compiling the report costs ~0.1 s a run);
    Jinja checks each against its source, so an upgrade recompiles."""
    folder = user_cache_dir() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder))


@lru_cache(maxsize=4)
def environment(folder: str = "report/templates") -> Environment:
    """The templates in ``folder`` of the package, autoescaping HTML."""
    return Environment(
        loader=PackageLoader("comove", folder),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_bytecode_cache(),
    )
