"""The leakage guard's whole scan: the value checks, then the model check.

:func:`scan_leaks` runs :func:`salesml.classify.leakage.find_leaks` (one column at
a time: single-column ROC-AUC, values holding one class only or nearly, ids,
dates after the label time), then
:func:`salesml.classify.leakage_model.model_check` on the columns those checks
leave unflagged, so a leak already caught cannot hide a second one behind it:

- the column the quick model relies on most, if it meets the thresholds of
  :meth:`~salesml.classify.leakage_model.ModelCheck.suspicious`, is flagged
  ``model_lift``, and the check runs again without it (up to :data:`MAX_ROUNDS`
  rounds): next to a leak the model is nearly right, so leaving out an honest
  column would look decisive; without the leak it does not;
- each ``near_pure_value`` column is added to the model once, and what it adds
  goes into its flag (``model``) and its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesml.classify.leakage import LeakFlag, find_leaks
from salesml.classify.leakage_model import ModelCheck, model_check

MAX_ROUNDS = 3  # model checks at most: one, then one more after each model_lift flag


@dataclass(frozen=True)
class LeakScan:
    """What :func:`scan_leaks` found: the flags and the model check's figures, one
    :class:`ModelCheck` per round (none when it did not run: switched off, fewer than
    two columns, or too few rows of a class)."""

    flags: list[LeakFlag]
    rounds: tuple[ModelCheck, ...] = ()

    @property
    def model(self) -> ModelCheck | None:
        """The first round: the model of every column the value checks left unflagged."""
        return self.rounds[0] if self.rounds else None


def _model_flags(
    frame: pd.DataFrame,
    y: np.ndarray,
    columns: list[Any],
    flags: list[LeakFlag],
    seed: int,
    n_jobs: int = 1,
) -> tuple[list[LeakFlag], tuple[ModelCheck, ...]]:
    """Run the model check on the unflagged columns; flag the column carrying most of the
    signal, then check the rest again without it (so a leak that makes the model nearly
    right cannot make an honest column look decisive), up to :data:`MAX_ROUNDS` rounds.
    The ``near_pure_value`` flags get the figures of adding their column in round one."""
    flagged = {f.column for f in flags}
    near_names = {f.column for f in flags if f.kind == "near_pure_value"}
    extra = [c for c in columns if str(c) in near_names]
    remaining = [c for c in columns if str(c) not in flagged]
    out = list(flags)
    rounds: list[ModelCheck] = []
    while len(rounds) < MAX_ROUNDS:
        check = model_check(frame, y, remaining, extra, seed, n_jobs=n_jobs)
        if check is None:
            break
        rounds.append(check)
        for lift in check.lifts:
            if lift.how == "added":
                at = next(i for i, f in enumerate(out) if f.column == lift.column)
                f = out[at]
                out[at] = LeakFlag(f.column, f.kind, f.value, f"{f.evidence} {lift.words()}", lift)
        extra = []
        found = [x for x in check.lifts if check.suspicious(x)]
        if not found:
            break
        top = max(found, key=lambda x: x.lift)
        out.append(LeakFlag(top.column, "model_lift", round(top.lift, 4), check.explain(top), top))
        remaining = [c for c in remaining if str(c) != top.column]
    order = {str(c): i for i, c in enumerate(columns)}
    out.sort(key=lambda f: order.get(f.column, len(order)))  # stable: kinds keep their order
    return out, tuple(rounds)


def scan_leaks(
    frame: pd.DataFrame,
    target: str,
    label_time: str | None = None,
    kinds: dict[str, str] | None = None,
    auc_threshold: float = 0.95,
    seed: int = 0,
    columns: list[str] | None = None,
    model: bool = True,
    n_jobs: int = 1,
) -> LeakScan:
    """Check the columns of a training frame for leaks: value checks, then the model check.

    Parameters
    ----------
    frame, target, label_time, kinds, auc_threshold, columns
        As for :func:`salesml.classify.leakage.find_leaks`.
    seed : int
        Seeds the out-of-fold target rates, the model check's subsample, folds and trees.
    model : bool
        Run the model check on the columns the value checks leave unflagged.
    n_jobs : int
        Threads the model check's fits run on (-1: every core).

    Returns
    -------
    LeakScan
        The flags in column order (a column may carry several kinds) and the
        model check's figures.
    """
    if columns is None:
        columns = [c for c in frame.columns if c not in (target, label_time)]
    flags = find_leaks(frame, target, label_time, kinds, auc_threshold, seed, columns)
    if not model:
        return LeakScan(flags)
    y = frame[target].to_numpy(dtype=float)
    flags, rounds = _model_flags(frame, y, list(columns), flags, seed, n_jobs)
    return LeakScan(flags, rounds)
