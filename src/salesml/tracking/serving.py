"""Exported models answering rows: the refusal they raise, and ``salesml serve``'s app.

An exported salesml model's ``predict`` refuses rows it cannot score (a missing
column, a value that is not a number, ``inf``) with :func:`refuse_input`: a
:class:`~salesml.errors.DataError` that is also an ``MlflowException`` with
``INVALID_PARAMETER_VALUE``, so any MLflow scoring server answers HTTP 400.
:func:`serving_app` is MLflow's scoring server with salesml's input handling:
rows are conformed to the model's trained types first, and every error is one
readable message (``{"error_code", "message"}``) without a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types.schema import AnyType, ColSpec, Schema

from salesml.errors import DataError
from salesml.tracking.store import _one_line


def input_schema(types: dict[str, str], optional: tuple[str, ...] = ()) -> Schema:
    """The input schema of an exported salesml model: its columns, each of MLflow type ``any``.

    MLflow's own enforcement refuses formats people have (int64 where doubles
    were trained, floats with NaN where integers were, numbers in a text column),
    so every column is declared ``any`` (``required`` unless in ``optional``) and
    the model's ``predict`` coerces them to their trained ``types``
    (:func:`salesml.io.coerce.conform_columns`); the model card keeps them
    as its ``input_types`` fact.
    """
    return Schema([ColSpec(AnyType(), str(c), required=c not in optional) for c in types])


class ModelInputError(DataError, MlflowException):
    """Rows an exported model refuses: a :class:`~salesml.errors.DataError` that MLflow's
    scoring server answers with HTTP 400 and the message (no stack trace).

    ``detail`` keeps the message as given (MLflow's server rewrites ``message``).
    """

    def __init__(self, message: str) -> None:
        MlflowException.__init__(self, message, error_code=INVALID_PARAMETER_VALUE)
        self.detail = message

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (type(self), (self.detail,))


def refuse_input(message: str | Exception) -> ModelInputError:
    """The error an exported model's ``predict`` raises for rows it cannot score.

    It is a :class:`~salesml.errors.DataError` (so salesml reports it as one
    paragraph) and an ``MlflowException`` with ``INVALID_PARAMETER_VALUE`` (so
    ``mlflow models serve`` and ``salesml serve`` answer HTTP 400 with the
    message, without a stack trace).
    """
    if isinstance(message, ModelInputError):
        return message
    return ModelInputError(str(message))


def conformed_predict(model: Any) -> Callable[..., Any]:
    """How to predict on rows salesml has already conformed to ``model``'s trained types.

    For salesml's own models (every input declared ``any``, which MLflow's
    enforcement copies value by value: seconds per 100,000 rows) their Python
    model's ``predict``, which coerces the rows itself; for other models,
    ``model.predict`` with MLflow's enforcement of their signature.
    """
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.inputs:
        return model.predict
    if not all(isinstance(c.type, AnyType) for c in schema.inputs):
        return model.predict
    try:
        python_model = model.unwrap_python_model()
    except MlflowException:  # not a Python model
        return model.predict

    def predict(data: Any, params: dict[str, Any] | None = None) -> Any:
        return python_model.predict(None, data, params=params)

    return predict


class _Checked:
    """A loaded pyfunc model whose ``predict`` conforms a frame to the model's inputs first.

    Refused rows raise :func:`refuse_input` (naming the column, value and row);
    everything else is the model's.
    """

    def __init__(self, model: Any, model_uri: str) -> None:
        from salesml.scoring.inputs import model_facts

        self._model, self.metadata = model, model.metadata
        try:
            self._facts: Any = model_facts(model, model_uri)
        except DataError:  # no named input columns: the model takes what it is given
            self._facts = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import pandas as pd

        from salesml.scoring.inputs import conform

        try:
            if self._facts is not None and isinstance(data, pd.DataFrame):
                data = conform(data, self._facts, "request")
            return self._model.predict(data, params=params)
        except DataError as exc:
            raise refuse_input(exc) from None


def _error_body(exc: BaseException) -> tuple[int, dict[str, str]]:
    """HTTP status and JSON body of a failed request: one readable message, no stack trace."""
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:  # MLflow wraps errors from predict
        if isinstance(seen, DataError):  # salesml's own: its message as given
            return 400, {"error_code": "BAD_REQUEST", "message": getattr(seen, "detail", str(seen))}
        visited.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, MlflowException):
        text = exc.message.split("\nError: ")[-1]  # drop "Failed to predict data '<rows>'"
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        message = lines[0] if lines else exc.error_code
        return exc.get_http_status_code(), {"error_code": exc.error_code, "message": message}
    return 500, {
        "error_code": "INTERNAL_ERROR",
        "message": f"{type(exc).__name__}: {_one_line(exc)}",
    }


def serving_app(model: Any, model_uri: str) -> Any:
    """MLflow's scoring server (a FastAPI app) for ``model``, with salesml's input handling.

    ``/ping``, ``/health`` and ``/version`` are MLflow's. ``/invocations`` parses
    the request as MLflow does, then conforms the rows to the model's trained
    types (as ``salesml score`` does) and answers a refused request with its
    HTTP status (400 for bad rows) and ``{"error_code", "message"}``, never a
    stack trace.
    """
    import asyncio

    from fastapi import Request
    from fastapi.responses import JSONResponse, Response
    from mlflow.pyfunc import scoring_server
    from mlflow.types.schema import DataType

    checked = _Checked(model, model_uri)
    app = scoring_server.init(checked)
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", "") != "/invocations"
    ]
    schema = model.metadata.get_input_schema()
    # MLflow parses CSV with the signature's types; salesml's ``any`` columns are conformed instead
    typed = schema is not None and all(isinstance(c.type, DataType) for c in schema.inputs)
    parse_schema = schema if typed else None

    async def invocations(request: Request) -> Response:
        data = await request.body()
        content_type = request.headers.get("content-type") or ""
        try:
            result = await asyncio.to_thread(
                scoring_server.invocations, data, content_type, checked, parse_schema
            )
        except Exception as exc:  # every error becomes one message; the server keeps running
            status, body = _error_body(exc)
            return JSONResponse(body, status_code=status)
        return Response(result.response, status_code=result.status, media_type=result.mimetype)

    # FastAPI reads the annotations to inject the request; they are text in this module
    invocations.__annotations__ = {"request": Request, "return": Response}
    app.post("/invocations")(invocations)
    return app
