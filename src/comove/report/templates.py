"""The Jinja2 environment of the package's HTML templates (reports and the dashboard page)."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape


@lru_cache(maxsize=4)
def environment(folder: str = "report/templates") -> Environment:
    """The templates in ``folder`` of the package, autoescaping HTML."""
    return Environment(
        loader=PackageLoader("comove", folder),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
