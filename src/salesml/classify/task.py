"""Lead-conversion and churn: data preparation, candidates and evaluation.

Documented handling of awkward input:

- id and free-text columns are never features; ``data.drop`` removes more.
- Columns entirely missing or constant (one value in every row) are dropped
  (listed in the summary under ``data.excluded``); features partly missing
  are imputed (median plus a missing indicator for logistic regression;
  native missing handling in boosting; a "missing" bin in control points).
- Categories unseen in train are pooled as ``__other__`` by the models and
  earn 0 points from control points.
- Column names with spaces or non-ASCII letters are kept as they are in the
  data, the summary and the exported model's signature; models see
  ASCII-safe names internally.
- A target with one class in train or test is an error naming the column.
- The leakage guard (:mod:`salesml.classify.leakage_guard`) checks the
  features on the training rows before anything is fitted and warns, fails
  or drops per ``leakage.on_flag``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.classify.config import ClassificationExperiment
from salesml.classify.leakage_guard import guard_features
from salesml.errors import DataError
from salesml.experiment.candidates import CandidateConfig
from salesml.experiment.results import ClassificationData
from salesml.experiment.task import Outcome, ParentRecord, TaskBase
from salesml.io.data import (
    binary_target,
    check_unique_ids,
    ensure_data,
    load_table,
    read_frame,
    require_columns,
    scalar,
)


def feature_frame(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The model input: ``features`` of ``frame``, integer columns as floats.

    Exported models declare integer features as doubles, so rows with a missing
    value score as well as complete ones. Use this on new rows before scoring.
    """
    X = frame[features].copy()
    for col in X.columns:
        if pd.api.types.is_integer_dtype(X[col]) and not pd.api.types.is_bool_dtype(X[col]):
            X[col] = X[col].astype(float)
    return X


def build_candidate(cand: CandidateConfig, seed: int) -> Any:
    """The unfitted scikit-learn estimator of a classification candidate (see its registry entry)."""
    return cand.spec.make(seed, **cand.builder_kwargs())


class ClassificationTask(TaskBase):
    """Binary classification (``lead_conversion`` or ``churn``) with ROC-AUC as primary metric.

    Its test predictions (:meth:`fit_evaluate`) are a frame with one row per test
    row: ``row`` (the row's position in the file), the id column(s) when the
    config names them, ``label`` (0/1) and ``probability``.
    """

    primary_metric = "roc_auc"

    def plan(self, info: ClassificationData) -> list[str]:
        """The split, its sizes and the positive rate, for ``--dry-run``."""
        return [
            f"split: {info.split}, train {info.train_rows:,} rows, test {info.test_rows:,} rows, "
            f"positive rate {info.positive_rate:.1%}; {len(info.features)} features"
        ]

    def parent_record(self, info: ClassificationData) -> ParentRecord:
        """The leakage guard's record: ``leakage.json``, a tag, two params."""
        leakage = info.leakage
        if leakage is None:
            return ParentRecord()
        flagged = sorted({f["column"] for f in leakage["flags"] if f["action"] != "allowed"})
        return ParentRecord(
            dicts={"leakage.json": leakage},
            tags={"salesml.leakage": (", ".join(flagged) or "none")[:5000]},
            params={"leakage.on_flag": leakage["on_flag"], "leakage.flags": len(flagged)},
        )

    def notes(self) -> list[str]:
        """One-line verdicts for the screen: the leakage guard's flags (or that there are none)."""
        return list(self._guard_lines)

    def __init__(self, config: ClassificationExperiment) -> None:
        self.config = config
        self._guard_lines: list[str] = []  # the leakage guard's verdict, set by prepare

    def prepare(self) -> ClassificationData:
        cfg = self.config
        dc = cfg.data
        where = str(dc.path)
        ensure_data(dc.path, dc.generate, cfg.source)
        table = load_table(dc.path, date_format=dc.date_format, read=dc.read)
        frame = table.frame
        if dc.label_from is not None:
            if dc.target in frame.columns:
                raise DataError(
                    f"{where}: data.target {dc.target!r} already exists; label_from would overwrite it"
                )
            try:
                keys = read_frame(dc.label_from.path, columns=[dc.label_from.key])
            except DataError as exc:
                raise DataError(f"{exc} (data.label_from of {cfg.source})") from exc
            keys = keys[dc.label_from.key]
            require_columns(frame, [dc.label_from.key], where, "label_from.key")
            frame[dc.target] = frame[dc.label_from.key].isin(set(keys.dropna())).astype(int)
        require_columns(frame, [dc.target], where, "target")
        require_columns(frame, dc.id_columns, where, "id")
        require_columns(frame, dc.drop, where, "drop")
        if dc.time:
            require_columns(frame, [dc.time], where, "time")
        y = binary_target(frame[dc.target], dc.positive, where)
        if dc.id_columns:
            check_unique_ids(frame, dc.id_columns, where)
        kinds = table.schema.to_dict()
        self._notes = table.schema.notes
        excluded: dict[str, str] = {}
        features = []
        for col in frame.columns:
            if col == dc.target or col in dc.id_columns or col in dc.drop:
                continue
            if dc.label_from is not None and col == dc.label_from.key:
                excluded[col] = "label key"
            elif kinds.get(col) in ("id", "text"):
                excluded[col] = f"{kinds[col]} column"
            elif frame[col].isna().all():
                excluded[col] = "entirely missing"
            elif frame[col].nunique(dropna=False) == 1:
                excluded[col] = f"constant: every row is {scalar(frame[col].iloc[0])!r}"
            else:
                features.append(col)
        if not features:
            why = "; ".join(f"{c}: {r}" for c, r in excluded.items())
            raise DataError(
                f"{where}: no feature columns left after removing target, id and drop columns"
                + (f" (left out: {why})" if why else "")
            )
        train, test = self._split(frame, y, where)
        for part, idx in (("train", train), ("test", test)):
            if y.iloc[idx].nunique() < 2:
                raise DataError(
                    f"{where}: target column {dc.target!r} has one class only in the {part} part "
                    "of the split; use more data or another split"
                )
        guard = guard_features(frame, y, train, features, kinds, cfg, where)
        features, self._guard_lines = guard.features, guard.lines
        excluded.update(guard.dropped)
        X = feature_frame(frame, features)
        self.X_train, self.X_test = X.iloc[train], X.iloc[test]
        self.train_window = None
        if dc.time:
            ts = pd.to_datetime(frame[dc.time].iloc[train], errors="coerce")
            self.train_window = [f"{ts.min():%Y-%m-%d}", f"{ts.max():%Y-%m-%d}"]
        self.y_train, self.y_test = y.iloc[train].to_numpy(), y.iloc[test].to_numpy()
        # the predictions' keys: the row's position, and its id(s) as text where they fit
        ids = [c for c in dc.id_columns if c not in ("row", "label", "probability", "candidate")]
        keys = frame[ids].iloc[test].astype(str).reset_index(drop=True)
        self.test_keys = keys.assign(row=np.asarray(test, dtype="int64"))
        self.data_info = ClassificationData(
            path=str(dc.path),
            sha256=table.sha256,
            rows=table.rows,
            excluded=excluded,
            positive_rate=round(float(y.mean()), 4),
            train_rows=len(train),
            test_rows=len(test),
            split=cfg.split.method,
            features=features,
            leakage=guard.record,
        )
        return self.data_info

    def _split(
        self, frame: pd.DataFrame, y: pd.Series, where: str
    ) -> tuple[np.ndarray, np.ndarray]:
        sc = self.config.split
        n = len(frame)
        n_test = int(round(n * sc.test_size))
        if n_test < 2 or n - n_test < 2:
            raise DataError(f"{where}: {n} rows are too few to split with test_size={sc.test_size}")
        if sc.method == "time":
            ts = pd.to_datetime(frame[self.config.data.time], errors="coerce")
            if ts.isna().any():
                time = self.config.data.time
                note = getattr(self, "_notes", {}).get(str(time), "")
                detail = f" ({note})" if "read as missing" in note else ""
                raise DataError(
                    f"{where}: time column {time!r} has {int(ts.isna().sum())} missing or "
                    f"unparseable values{detail}; the time split needs every date "
                    "(data.date_format gives their format)"
                )
            order = np.argsort(ts.to_numpy(), kind="mergesort")
            return np.sort(order[: n - n_test]), np.sort(order[n - n_test :])
        from sklearn.model_selection import train_test_split

        strat = y if sc.method == "stratified" and y.value_counts().min() >= 2 else None
        train, test = train_test_split(
            np.arange(n), test_size=n_test, random_state=sc.seed, stratify=strat
        )
        return np.sort(train), np.sort(test)

    def fit_evaluate(self, candidate: CandidateConfig, role: str, plot_dir: Path) -> Outcome:
        from sklearn.inspection import permutation_importance

        from salesml.classify.models import CalibratedModel, tune
        from salesml.classify.plots import candidate_figure
        from salesml.experiment.evaluation import (
            classification_report,
            weighted_classification_metrics,
        )

        cfg, ev = self.config, self.config.evaluation
        seed = cfg.split.seed
        est = build_candidate(candidate, seed)
        params: dict[str, Any] = dict(candidate.params)
        t0 = time.perf_counter()
        if role == "model":
            if candidate.search is not None:
                est, best, cv_auc = tune(
                    candidate.spec.search_space or {},
                    est,
                    self.X_train,
                    self.y_train,
                    candidate.search.n_trials,
                    candidate.search.cv,
                    seed,
                    ev.n_jobs,
                )
                params.update({f"best.{k}": v for k, v in best.items()})
                params["search.cv_roc_auc"] = round(cv_auc, 4)
            est = CalibratedModel(
                est, method=candidate.calibration, cv=5, seed=seed, n_jobs=ev.n_jobs
            )
            params["calibration"] = candidate.calibration
        elif "rules" in candidate.spec.options:
            params["rules"] = len(candidate.rules)
        est.fit(self.X_train, self.y_train)
        fit_seconds = time.perf_counter() - t0
        p = est.predict_proba(self.X_test)[:, 1]
        metrics = classification_report(
            self.y_test, p, ev.bootstrap, ev.seed, ev.confidence, ev.n_jobs
        )
        if role == "model":
            raw = est.predict_proba_uncalibrated(self.X_test)[:, 1]
            metrics["brier_uncalibrated"] = float(
                weighted_classification_metrics(self.y_test, raw)["brier"][0]
            )
        importance = None
        if np.ptp(p) > 0:  # a constant score (the prior) has no feature to rank
            sub = self._importance_rows()
            # Calibration is a monotone map fitted per fold, so the ranking is that of
            # the uncalibrated fit, at a fifth of the cost.
            scorer = est.uncalibrated_ if role == "model" else est
            result = permutation_importance(
                scorer,
                self.X_test.iloc[sub],
                self.y_test[sub],
                scoring="roc_auc",
                n_repeats=3,
                random_state=seed,
                n_jobs=1,
            )
            importance = pd.Series(result.importances_mean, index=self.X_test.columns)
            params["top_features"] = ", ".join(
                importance.sort_values(ascending=False).index[:5].map(str)
            )
        plot = candidate_figure(
            self.y_test, p, importance, f"{candidate.name} ({role})", plot_dir / "evaluation.png"
        )
        return Outcome(
            name=candidate.name,
            role=role,
            type=candidate.type,
            metrics=metrics,
            params=params,
            fit_seconds=fit_seconds,
            model=self._export(candidate, role, est, metrics, params),
            input_example=self.X_train.head(5),
            plots=[plot],
            predictions=self.test_keys.assign(label=self.y_test.astype("int8"), probability=p),
        )

    def _export(
        self,
        candidate: CandidateConfig,
        role: str,
        est: Any,
        metrics: dict[str, Any],
        params: dict[str, Any],
    ) -> Any:
        """The exported model: the fitted candidate as a LeadScorer, plus its model-card facts."""
        from salesml.classify.export import ExportedClassifier
        from salesml.classify.scorer import TIER_SHARES, LeadScorer

        scorer = LeadScorer(est, self.X_train)
        sample = self.X_test.iloc[self._importance_rows(1000)]
        card = {
            "candidate": candidate.name,
            "type": candidate.type,
            "role": role,
            "description": candidate.spec.description,
            "experiment": self.config.name,
            "task": self.config.task,
            "target": self.config.data.target,
            "positive": self.config.data.positive,
            "id_columns": self.config.data.id_columns,
            "data": {k: v for k, v in vars(self.data_info).items() if k != "features"},
            "train_window": self.train_window,
            "dropped": self.config.data.drop,
            "features": scorer.kinds,
            "params": params,
            "metrics": metrics,
            "confidence": self.config.evaluation.confidence,
            "score": "rule points (0-100)" if scorer.points_based else "100 x probability",
            "tier_shares": TIER_SHARES,
            "tier_cuts": scorer.cuts,
            "tiers_test": scorer.tier_table(self.X_test, self.y_test),
            "top_drivers": scorer.top_drivers(sample),
            "reasons": scorer.explainer.kind,
        }
        return ExportedClassifier(scorer, card)

    def datasets(self) -> dict[str, tuple[pd.DataFrame, str]]:
        """Train and test rows (features and target) for MLflow's dataset inputs."""
        target = self.config.data.target
        return {
            "train": (self.X_train.assign(**{target: self.y_train}), "training"),
            "test": (self.X_test.assign(**{target: self.y_test}), "testing"),
        }

    def _importance_rows(self, limit: int = 2000) -> np.ndarray:
        n = len(self.y_test)
        if n <= limit:
            return np.arange(n)
        rng = np.random.default_rng(self.config.split.seed)
        return np.sort(rng.choice(n, size=limit, replace=False))

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        from salesml.experiment.evaluation import metric_difference

        ev = self.config.evaluation
        return metric_difference(
            self.y_test,
            a.predictions["probability"].to_numpy(),
            b.predictions["probability"].to_numpy(),
            self.primary_metric,
            ev.bootstrap,
            ev.seed,
            ev.confidence,
            ev.n_jobs,
        )

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Path]:
        from salesml.classify.plots import comparison_figure

        preds = {o.name: o.predictions["probability"].to_numpy() for o in outcomes}
        metrics = {o.name: o.metrics for o in outcomes}
        return [
            comparison_figure(
                self.y_test,
                preds,
                metrics,
                plot_dir / "comparison.png",
                self.primary_metric,
                self.config.evaluation.confidence,
            )
        ]
