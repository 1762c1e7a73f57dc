"""The exception tree every comove failure belongs to.

::

    ComoveError                 root: catch this to catch everything comove raises
    ├── DataError               a file or series is malformed, empty, or cannot be analysed
    ├── ConfigError             a setting, option or source string is invalid
    ├── StoreError              the local store cannot be read or written
    └── ProviderError           a data provider failed after retries (network, 5xx, bad reply)
        ├── RateLimited         the provider asked us to slow down
        └── SymbolNotFound      the provider does not know the symbol

Messages are one line and name what is wrong and where (file, row, column, option).
"""

from __future__ import annotations


class ComoveError(Exception):
    """Root of every error comove raises on purpose."""


class DataError(ComoveError):
    """Input data is malformed, empty, or insufficient for the analysis asked for."""


class ConfigError(ComoveError):
    """A setting, command-line option or source string is invalid."""


class StoreError(ComoveError):
    """The local store cannot be opened, read or written."""


class ProviderError(ComoveError):
    """A data provider failed after its retries were spent."""


class RateLimited(ProviderError):
    """The provider refused because of its rate limit."""


class SymbolNotFound(ProviderError):
    """The provider does not know the requested symbol."""


class DataWarning(UserWarning):
    """Input is usable but suspicious (missing crypto days, weekend rows in an equity file, ...)."""


#: Exit codes of the ``comove`` command line.
EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_PROVIDER = 0, 1, 2, 3


def exit_code(exc: ComoveError) -> int:
    """The exit code for an error: 3 for a provider failure after retries, 1 for the rest.

    An unknown symbol is the user's error (1), not the provider's. Usage errors (2) are
    raised by the command-line parser before any of these.
    """
    if isinstance(exc, ProviderError) and not isinstance(exc, SymbolNotFound):
        return EXIT_PROVIDER
    return EXIT_USER
