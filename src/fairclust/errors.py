"""Errors that fairclust raises for bad input.

Every error raised because of the user's input (data, arguments, files) derives from
:class:`FairclustError`, itself a :class:`ValueError`, so Python callers can catch it the
usual way and the CLI can print its one-line message without a traceback.
"""

from __future__ import annotations


class FairclustError(ValueError):
    """Bad input: the message names the problem and the fix, on one line."""


class FairclustTypeError(FairclustError, TypeError):
    """Input of the wrong type (e.g. a non-numeric array)."""


class FairclustWarning(UserWarning):
    """A result that may be wrong without the input being bad (e.g. a near-chance matching)."""


class DataFileError(FairclustError):
    """A data file is missing, truncated or malformed."""
