"""Exceptions raised on bad input.

Every error a user can cause with a config file or a data file is a
:class:`SalesmlError`. The CLI prints its message as one paragraph and exits
with code 2, without a traceback; library users catch it like any
``ValueError``.
"""

from __future__ import annotations


class SalesmlError(ValueError):
    """Bad input: the message names the file, key or column and the problem."""


class ConfigError(SalesmlError):
    """An experiment config that cannot be used."""


class DataError(SalesmlError):
    """A data file, column or series that cannot be used."""


class TrackingError(SalesmlError):
    """An MLflow tracking store that cannot be reached or used (password masked)."""
