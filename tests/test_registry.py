"""Tests for salesml.experiment.registry and the wings' declarations: one entry per candidate, used everywhere."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd
import pytest

from salesml.errors import ConfigError
from salesml.experiment.config import load_experiment
from salesml.experiment.registry import (
    CandidateSpec,
    Param,
    candidate_table,
    candidates,
    spec_for,
    tag_vocabulary,
    unknown_params,
)
from salesml.experiment.tasks import families, resolve

FAMILIES = list(families())
SPECS = [s for fam in FAMILIES for s in candidates(fam).values()]
# Options whose default is applied inside salesml's own code rather than read from a
# signature (the backtest's refit, the ensemble's members, the global model's features).
NOT_IN_A_SIGNATURE = {
    "refit",
    "members",
    "size",
    "combine",
    "lags",
    "rolling",
    "date_features",
    "holidays",
    "exog",
    "base_points",
    "n_bins",
    "smoothing",
    "max_levels",
}


def _id(spec: CandidateSpec) -> str:
    return f"{spec.family}:{spec.type}"


def _signatures(spec: CandidateSpec) -> list[inspect.Signature]:
    out = [inspect.signature(spec.builder())] if spec.build else []
    if "sf_model" in spec.fixed:
        from statsforecast import models as sm

        out.append(inspect.signature(getattr(sm, spec.fixed["sf_model"])))
    return out


def test_every_family_declares_baselines_and_models():
    for fam in FAMILIES:
        roles = {s.role for s in candidates(fam).values()}
        assert roles == {"baseline", "model"}, fam


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_declaration_is_complete(spec: CandidateSpec):
    assert spec.description and spec.description[0].isupper() and len(spec.description) < 100
    assert all(isinstance(p, Param) and p.help for p in spec.params.values())
    assert set(spec.options) <= {"rules", "search", "calibration"}
    if spec.build is not None:
        params = inspect.signature(spec.builder()).parameters
        takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
        assert takes_kwargs or set(spec.fixed) <= set(params)
    if spec.passthrough:
        assert inspect.isclass(resolve(spec.passthrough))
    if "search" in spec.options:
        assert spec.search_space, "a model that can be searched needs a search space"


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_declared_defaults_are_the_real_defaults(spec: CandidateSpec):
    sigs = _signatures(spec)
    for name, param in spec.params.items():
        found = [s.parameters[name].default for s in sigs if name in s.parameters]
        if name in NOT_IN_A_SIGNATURE:
            assert not found or found[0] == param.default, name
            continue
        assert found, f"{spec.type}.{name}: no builder or model signature takes it"
        assert found[0] == param.default, f"{spec.type}.{name}: {found[0]!r} != {param.default!r}"


def test_estimator_defaults_of_the_baselines():
    """The baselines' options default in the estimators exactly as declared."""
    for type_ in ("scorecard", "control_points"):
        spec = spec_for("classification", type_)
        kwargs = {"rules": [{"column": "a", "eq": 1, "points": 1}]} if type_ == "scorecard" else {}
        est = spec.make(0, **kwargs).get_params()
        for name, param in spec.params.items():
            assert est[name] == param.default, f"{type_}.{name}"


@pytest.mark.parametrize(
    "spec", [s for s in SPECS if s.family == "classification" and s.role == "model"], ids=_id
)
def test_every_classifier_builds_fits_and_its_search_space_applies(spec, leads_small):
    X = leads_small.drop(columns=["converted", "lead_id", "last_stage_reached", "job_title"])
    y = leads_small["converted"].to_numpy()
    model = spec.make(3)
    for key, values in spec.search_space.items():
        model.set_params(**{key: values[0]})  # every key is a parameter of the pipeline
    model = spec.make(3).fit(X.iloc[:1500], y[:1500])
    p = model.predict_proba(X.iloc[1500:])[:, 1]
    assert p.shape == (1500,) and np.all((p >= 0) & (p <= 1))
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y[1500:], p) > 0.7  # a real model on a real signal
    again = spec.make(3).fit(X.iloc[:1500], y[:1500]).predict_proba(X.iloc[1500:])[:, 1]
    np.testing.assert_array_equal(p, again)  # seeded


def _daily(seed_b: int = 0) -> pd.DataFrame:
    """Two daily series with a weekly pattern and a promo column; ``seed_b`` redraws b's noise."""
    dates = pd.date_range("2023-01-02", periods=84, freq="D")
    weekly = np.array([1.0, 0.9, 1.0, 1.1, 1.3, 1.6, 1.2])
    parts = []
    for uid, lvl, seed in (("a", 20.0, 0), ("b", 50.0, 1 + seed_b)):
        noise = np.random.default_rng(seed).gamma(40, 1 / 40, 84)
        y = lvl * weekly[dates.dayofweek] * noise
        parts.append(pd.DataFrame({"unique_id": uid, "ds": dates, "y": y}))
    frame = pd.concat(parts, ignore_index=True)
    frame["promo"] = (np.arange(len(frame)) % 9 == 0).astype(float)
    return frame


def _future(frame: pd.DataFrame, h: int) -> pd.DataFrame:
    last = frame["ds"].max()
    return pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], h),
            "ds": np.tile(pd.date_range(last, periods=h + 1, freq="D")[1:], 2),
            "promo": 0.0,
        }
    )


@pytest.mark.parametrize("spec", [s for s in SPECS if s.family == "forecast" and s.build], ids=_id)
def test_every_forecaster_builds_fits_and_predicts(spec):
    from salesml.forecast.models import ForecastContext

    frame = _daily()[["unique_id", "ds", "y"]]
    dates = pd.DatetimeIndex(frame["ds"].unique())
    model = spec.make(ForecastContext("D", 7)).fit(frame)
    fc = model.predict(7)
    assert list(fc.columns) == ["unique_id", "ds", "yhat"]
    assert len(fc) == 14 and fc["yhat"].notna().all()
    assert fc["ds"].min() == dates[-1] + pd.Timedelta(days=1)
    assert (fc["yhat"] > 0).all()


def test_unknown_params_suggest_the_closest_option():
    spec = spec_for("classification", "control_points")
    assert unknown_params(spec, {"n_bins": 3}) is None
    text = unknown_params(spec, {"smothing": 1, "zzz": 2})
    assert "'smothing' (did you mean 'smoothing'?)" in text and "'zzz'" in text
    assert "control_points accepts n_bins, smoothing, max_levels" in text


def test_lightgbm_accepts_its_booster_aliases():
    spec = spec_for("classification", "lightgbm")
    assert unknown_params(spec, {"min_data_in_leaf": 5, "num_leaves": 7}) is None


def test_spec_for_unknown_type():
    with pytest.raises(KeyError, match="choose from prior"):
        spec_for("classification", "prophet")
    with pytest.raises(KeyError, match="unknown family"):
        candidates("regression")


# ---------------------------------------------------------------- tags


def test_tags_come_from_the_documented_vocabulary():
    for fam in FAMILIES:
        vocab = tag_vocabulary(fam)
        assert vocab and all(isinstance(m, str) and m[0].islower() for m in vocab.values())
        specs = list(candidates(fam).values())
        for spec in specs:
            assert isinstance(spec.tags, frozenset), spec.type
            assert spec.tags <= set(vocab), f"{spec.type}: undocumented {spec.tags - set(vocab)}"
        used = set().union(*(s.tags for s in specs))
        assert used == set(vocab), f"{fam}: tags no candidate claims: {set(vocab) - used}"


def _estimated(model: Any) -> Any:
    """The object holding what ``fit`` estimated (statsforecast, mlforecast or the rule's table)."""
    return next(vars(model)[k] for k in ("sf_", "mlf_", "values_") if k in vars(model))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.family == "forecast"], ids=_id)
def test_forecast_tags_are_true(spec: CandidateSpec):
    """Each tag's claim, checked on the forecaster the entry builds."""
    from salesml.forecast.contract import Forecaster
    from salesml.forecast.forms import ladder
    from salesml.forecast.models import ForecastContext, StatsForecaster
    from salesml.forecast.spark import SparkEngine

    tags = spec.tags
    assert ("combines" in tags) == (spec.build is None)  # the task assembles it
    if spec.build is None:
        return
    params = {"n_jobs": 1} if "n_jobs" in spec.params else {}
    ctx = ForecastContext("D", 7, exog=("promo",))
    made = spec.make(ctx, **params)
    assert isinstance(made, Forecaster)
    # exog: reads the context's exogenous columns, and needs their future values
    assert made.uses_exog == ("exog" in tags)
    assert made.exog == (("promo",) if "exog" in tags else ())
    # seasonal: a series shorter than a season or two gets a simpler form
    assert (ladder(made, 7)[0].min_length > 1) == ("seasonal" in tags)
    # decomposes: a 52-week season is taken by STL (statsforecast MSTL) by default
    weekly = spec.make(ForecastContext("W", 52), **params)
    stl = isinstance(weekly, StatsForecaster) and weekly.decompose
    assert stl == ("decomposes" in tags)
    assert (type(weekly._model()).__name__ == "MSTL") if stl else True
    # spark: engine: spark swaps in a forecaster fitted on Spark
    assert (SparkEngine().adapter()(made) is not made) == ("spark" in tags)
    # global: series a's forecast depends on series b's history
    frame, other = _daily(), _daily(seed_b=1)
    X = _future(frame, 7) if made.uses_exog else None
    fc = spec.make(ctx, **params).fit(frame).predict(7, X)
    fc_other = spec.make(ctx, **params).fit(other).predict(7, X)
    a, a_other = fc[fc["unique_id"] == "a"], fc_other[fc_other["unique_id"] == "a"]
    assert (not np.allclose(a["yhat"], a_other["yhat"], rtol=1e-12)) == ("global" in tags)
    # refit_free: update keeps what fit estimated and moves the origin to the end
    model = spec.make(ctx, **params).fit(
        frame[frame["ds"] < frame["ds"].max() - pd.Timedelta(13, "D")]
    )
    before = _estimated(model)
    moved = model.update(frame).predict(7, X)
    assert (_estimated(model) is before) == ("refit_free" in tags)
    assert moved["ds"].min() == frame["ds"].max() + pd.Timedelta(days=1)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.family == "classification"], ids=_id)
def test_classification_tags_are_true(spec: CandidateSpec, leads_small):
    X = leads_small.drop(columns=["converted", "lead_id", "last_stage_reached", "job_title"])
    X, y = X.head(600), leads_small["converted"].to_numpy()[:600]
    assert ("rules" in spec.tags) == ("rules" in spec.options)  # its rules come from the config
    rules = [{"column": "demo_requested", "eq": True, "points": 40}]
    est = spec.make(0, **({"rules": rules} if "rules" in spec.options else {}))
    assert ("points" in spec.tags) == hasattr(est, "contributions")
    scores = est.fit(X, y).predict_proba(X)[:, 1]
    assert ("floor" in spec.tags) == (np.ptp(scores) == 0)  # the floor ignores the features
    if "points" in spec.tags:
        est.fit(X, y)
        points, parts = est.points(X), est.contributions(X)
        assert len(parts) == len(X) and ((points >= 0) & (points <= 100)).all()
    if spec.role == "model":
        encoded = est[:-1].fit_transform(X)  # what the estimator itself receives
        dtypes = getattr(encoded, "dtypes", [])
        native = any(isinstance(d, pd.CategoricalDtype) for d in dtypes)
        assert native == ("native_categoricals" in spec.tags)
    else:
        assert "native_categoricals" not in spec.tags


def test_candidate_table_shows_the_tags():
    rows = {r["type"]: r for r in candidate_table("forecast")}
    assert rows["lightgbm_global"]["tags"] == "exog, global, refit_free, spark"
    assert rows["ensemble"]["tags"] == "combines"
    assert rows["moving_average"]["tags"] == "spark"  # statsforecast cannot move it forward
    for row in candidate_table():
        spec = spec_for(row["family"], row["type"])
        assert row["tags"] == (", ".join(sorted(spec.tags)) or "-")
    assert list(rows["naive"]) == ["family", "role", "type", "description", "tags", "options"]


def test_candidate_table_rows():
    rows = candidate_table("churn")
    assert {r["family"] for r in rows} == {"classification"}
    assert [r["role"] for r in rows] == sorted(r["role"] for r in rows)  # baselines first
    assert {r["type"] for r in rows} == set(candidates("classification"))
    assert {r["type"] for r in candidate_table()} >= {"auto_ets", "logistic"}


def _config(write_yaml, family: str, role: str, entry: Any) -> Any:
    if family == "classification":
        raw = {"name": "x", "task": "churn", "data": {"path": "c.csv", "target": "y"}}
    elif family == "bookings":
        raw = {"name": "x", "task": "bookings", "data": {"path": "o.csv"}}
    elif family == "customer_value":
        raw = {
            "name": "x",
            "task": "customer_value",
            "data": {"path": "t.csv", "customer": "c", "time": "d", "value": "v"},
            "calibration_end": "2024-06-30",
            "holdout_end": "2024-12-31",
        }
    elif family == "survival":
        raw = {
            "name": "x",
            "task": "churn_survival",
            "data": {"path": "c.csv", "duration": "tenure", "event": "churned"},
        }
    else:
        raw = {
            "name": "x",
            "task": "forecast",
            "horizon": 4,
            "data": {"path": "s.csv", "target": "y", "id": "s", "time": "d"},
        }
    raw["baselines" if role == "baseline" else "models"] = [entry]
    return load_experiment(write_yaml(raw))


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_every_candidate_is_accepted_by_the_config(spec, write_yaml):
    entry: dict[str, Any] = {"type": spec.type}
    if "rules" in spec.options:
        entry["rules"] = [{"column": "a", "eq": 1, "points": 1}]
    cfg = _config(write_yaml, spec.family, spec.role, entry)
    ((_, cand),) = cfg.candidates
    assert type(cand).spec is spec and cand.name == spec.type
    with pytest.raises(ConfigError, match="unknown option"):
        _config(write_yaml, spec.family, spec.role, {**entry, "params": {"no_such_option": 1}})


def test_random_forest_scores_unseen_categories_and_missing_values(leads_small):
    """The random_forest entry: ordinal-coded categories, NaN kept for the trees."""
    X = leads_small.drop(columns=["converted", "lead_id", "last_stage_reached", "job_title"])
    y = leads_small["converted"].to_numpy()
    model = spec_for("classification", "random_forest").make(0, n_estimators=50).fit(X, y)
    new = X.head(3).copy()
    new["industry"] = ["never seen", None, new["industry"].iloc[2]]
    new.loc[new.index[0], "hours_to_first_contact"] = np.nan  # a missing number
    p = model.predict_proba(new)[:, 1]
    assert p.shape == (3,) and np.isfinite(p).all()
    assert model.named_steps["clf"].n_estimators == 50  # params override the declared defaults


@pytest.mark.slow
def test_auto_ces_runs_in_a_forecast_experiment(write_yaml, tmp_path, tracking):
    """The auto_ces entry: declared once, it validates, backtests and exports like the others."""
    import io

    from rich.console import Console

    from salesml import run_experiment

    raw = {
        "name": "ces",
        "task": "forecast",
        "data": {
            "path": "sales.csv",
            "generate": {"kind": "sales", "rows": 3, "seed": 2},
            "id": "unique_id",
            "time": "ds",
            "target": "y",
            "freq": "D",
        },
        "horizon": 7,
        "backtest": {"windows": 1},
        "evaluation": {"bootstrap": 50},
        "baselines": ["naive"],
        "models": [{"type": "auto_ces", "params": {"model": "S", "max_history": 120}}],
    }
    summary = run_experiment(
        load_experiment(write_yaml(raw)), tmp_path / "out", console=Console(file=io.StringIO())
    )
    ces = summary.candidate("auto_ces")
    assert ces.status == "ok", ces.error
    assert 0 < ces.metrics["mase"] < summary.candidate("naive").metrics["mase"] * 1.5
    assert ces.model_uri
