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
    """A tracking store that cannot be reached or written."""


class EngineError(SalesmlError):
    """A compute engine (Spark) that is missing, cannot be reached or failed a job.

    Never mistaken for a model's failure: the forecast fallback ladder
    (:mod:`salesml.forecast.fallback`) raises it instead of trying a simpler form.
    """


class SalesmlWarning(UserWarning):
    """Something the user should know; shown on screen in one line, also while a
    command sends library warnings to its log file."""


class UntrustedModelWarning(SalesmlWarning):
    """A model loaded from outside the tracking store: MLflow models may contain pickles."""
