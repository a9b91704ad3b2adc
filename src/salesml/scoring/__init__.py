"""Using exported models: batch scoring, Spark, REST serving and export with a model card.

Everything here works on an MLflow model URI (``models:/<name>@champion``,
``runs:/<id>/model`` or a local folder) through the model's pyfunc interface,
so it imports neither task wing: a classifier returns probability, score,
tier and reasons; a forecaster returns the point forecast and its intervals.

- :mod:`salesml.scoring.inputs`: the model's input schema enforced on a frame;
- :mod:`salesml.scoring.batch`: ``salesml score`` with pandas, in chunks;
- :mod:`salesml.scoring.spark`: ``salesml score --engine spark``;
- :mod:`salesml.scoring.card`: ``salesml export`` and ``MODEL_CARD.md``;
- ``salesml serve``: :func:`salesml.tracking.serve_model` (:mod:`salesml.tracking.serving`: every error a 400 or 500 with one message, no stack trace).
"""
