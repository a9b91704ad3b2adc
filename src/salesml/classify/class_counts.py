"""Enough rows of each class for the folds and the split a classification run uses.

Checked by :func:`~salesml.classify.prepare.prepare_rows` after the split and
before anything is fitted, so a run with 3 positives in 5,000 rows stops with
the counts instead of failing inside a cross-validation.

What each class (positive and negative alike) needs:

- **training part, refused below**: as many rows as the most folds any
  candidate cross-validates on its training rows:
  :data:`~salesml.classify.registry.CALIBRATION_FOLDS` for a model calibrated
  (any ``calibration`` but ``none``), ``search.cv`` for a model with a
  hyperparameter search. Stratified folds then hold out at least one row of
  each class in every fold; with fewer, some fold has none, and its calibration
  (or its ROC-AUC) is undefined or the fit fails. Classification has no
  stacking; baselines use no folds. At least one row of each class in each
  part is checked before this (a class missing from a part is refused).
- **test part, warned below**: :data:`~salesml.experiment.evaluation.MIN_UNITS`
  (10) for a confidence interval. With fewer the run goes ahead, its metrics
  come without intervals and no champion is chosen (see that module for why 10).

A run also warns (:func:`small_data_warnings`, one line) when the labelled rows
are fewer than :data:`RELIABLE_ROWS` or the rarer class has fewer than
:data:`RELIABLE_MINORITY`: the sizes from which a lead-conversion or churn
model is usually reliable. For example, Salesforce's Einstein Lead Scoring
builds an org's own model only from at least 1,000 leads created in the last
200 days with at least 120 of them converted (Salesforce Help, "Considerations
for Setting Up Einstein Lead Scoring"); its Opportunity Scoring asks for 200
closed-won and 200 closed-lost opportunities in 24 months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from salesml.classify.config import ClassificationExperiment
from salesml.classify.labels import LabelMap
from salesml.classify.registry import CALIBRATION_FOLDS
from salesml.errors import DataError
from salesml.experiment.evaluation import MIN_UNITS
from salesml.experiment.results import ci_label

RELIABLE_ROWS = 1_000
RELIABLE_MINORITY = 120
_CLASSES = ((1, "positive"), (0, "negative"))


@dataclass(frozen=True)
class FoldNeed:
    """One cross-validation a candidate runs on the training rows."""

    candidate: str
    what: str  # "calibration" or "search"
    folds: int


def fold_needs(config: ClassificationExperiment) -> list[FoldNeed]:
    """Every cross-validation the config's candidates run on the training part."""
    needs = []
    for role, cand in config.candidates:
        if role != "model":
            continue
        search = getattr(cand, "search", None)
        if search is not None:
            needs.append(FoldNeed(cand.name, "search", search.cv))
        if getattr(cand, "calibration", "none") != "none":
            needs.append(FoldNeed(cand.name, "calibration", CALIBRATION_FOLDS))
    return needs


def _largest(needs: list[FoldNeed]) -> tuple[int, str]:
    """The most folds any candidate uses and who uses them (``the 5-fold calibration of `a```)."""
    folds = max(n.folds for n in needs)
    parts = []
    for what in ("calibration", "search"):
        names = [f"`{n.candidate}`" for n in needs if n.folds == folds and n.what == what]
        if names:
            parts.append(f"the {folds}-fold {what} of {_and(names)}")
    return folds, " and ".join(parts)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def class_rows(y_train: np.ndarray, y_test: np.ndarray) -> dict[str, dict[str, int]]:
    """``{"train": {"positive": n, "negative": n}, "test": {...}}``: the summary's ``class_rows``."""
    return {
        part: {word: int((np.asarray(y) == label).sum()) for label, word in _CLASSES}
        for part, y in (("train", y_train), ("test", y_test))
    }


def check_class_counts(
    labels: LabelMap,
    rows: dict[str, dict[str, int]],
    config: ClassificationExperiment,
    where: str,
) -> None:
    """Refuse a split with fewer training rows of a class than the run's folds.

    Parameters
    ----------
    labels : LabelMap
        The target's labels (for the column and the values of each class).
    rows : dict
        Rows per part and class (:func:`class_rows`).
    config : ClassificationExperiment
        Its candidates say which folds run; its split, how rows divide.
    where : str
        The file, for messages.

    Raises
    ------
    DataError
        Naming the file, the column, each short class with its rows in all, in
        training and in test, which candidates need how many, and the way out.
    """
    needs = fold_needs(config)
    if not needs:
        return
    folds, who = _largest(needs)
    short = [(lab, w) for lab, w in _CLASSES if rows["train"][w] < folds]
    if not short:
        return
    n = sum(rows["train"].values()) + sum(rows["test"].values())
    left_out = f" labelled rows ({labels.open_rows:,} open left out)" if labels.open_rows else ""
    counts = "; ".join(
        f"{rows['train'][w] + rows['test'][w]:,} {w} rows ({labels.describe(lab)}) in {n:,}"
        f"{left_out}: {rows['train'][w]:,} in the training part, {rows['test'][w]:,} in the test part"
        for lab, w in short
    )
    ts = config.split.test_size
    wants = f"{who} needs at least {folds} of each class in training"
    if config.split.method != "time":
        wants += (
            f" (with split.test_size {ts:g}, about {math.ceil(folds / (1 - ts))} of each in all; "
            f"{math.ceil(MIN_UNITS / ts)} for the test part to hold the {MIN_UNITS} a CI needs)"
        )
    raise DataError(
        f"{where}: target column {labels.target!r} has too few rows of a class for this run: "
        f"{counts}; {wants}; use more rows, or fewer folds (calibration: none on the models, "
        "a smaller search.cv)"
    )


def small_data_warnings(
    labels: LabelMap, rows: dict[str, dict[str, int]], config: ClassificationExperiment
) -> list[str]:
    """One line when the rows are fewer than usually give a reliable model, else none.

    The line names the labelled rows and the rarer class against
    :data:`RELIABLE_ROWS` and :data:`RELIABLE_MINORITY`, and a test part with
    fewer than ``MIN_UNITS`` rows of a class (no CIs, no champion).
    """
    n = len(labels.y)
    rarer, label = min((labels.positive_rows, 1), (labels.negative_rows, 0))
    word = dict(_CLASSES)[label]
    parts = []
    if n < RELIABLE_ROWS or rarer < RELIABLE_MINORITY:
        kind = "lead-conversion" if config.task == "lead_conversion" else config.task
        parts.append(
            f"{n:,} labelled rows, {rarer:,} of them {word} ({labels.describe(label)}); a "
            f"{kind} model is usually reliable from about {RELIABLE_ROWS:,} rows with "
            f"{RELIABLE_MINORITY} of the rarer outcome (for example, Salesforce Einstein Lead "
            f"Scoring asks for {RELIABLE_ROWS:,} leads created in the last 200 days, "
            f"{RELIABLE_MINORITY} of them converted)"
        )
    few = [f"{rows['test'][w]:,} {w}" for _, w in _CLASSES if rows["test"][w] < MIN_UNITS]
    if few:
        ci = ci_label(config.evaluation.confidence)
        parts.append(
            f"the test part has {' and '.join(few)} rows, fewer than the {MIN_UNITS} of each "
            f"a {ci} needs: metrics come without intervals and no champion is chosen"
        )
    if not parts:
        return []
    return ["small data: " + "; ".join(parts)]
