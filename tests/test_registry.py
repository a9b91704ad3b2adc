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


@pytest.mark.parametrize("spec", [s for s in SPECS if s.family == "forecast" and s.build], ids=_id)
def test_every_forecaster_builds_fits_and_predicts(spec):
    from salesml.forecast.models import ForecastContext

    dates = pd.date_range("2023-01-02", periods=84, freq="D")
    rng = np.random.default_rng(0)
    weekly = np.array([1.0, 0.9, 1.0, 1.1, 1.3, 1.6, 1.2])
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": uid,
                    "ds": dates,
                    "y": lvl * weekly[dates.dayofweek] * rng.gamma(40, 1 / 40, 84),
                }
            )
            for uid, lvl in (("a", 20.0), ("b", 50.0))
        ],
        ignore_index=True,
    )
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


def test_candidate_table_rows():
    rows = candidate_table("churn")
    assert {r["family"] for r in rows} == {"classification"}
    assert [r["role"] for r in rows] == sorted(r["role"] for r in rows)  # baselines first
    assert {r["type"] for r in rows} == set(candidates("classification"))
    assert {r["type"] for r in candidate_table()} >= {"auto_ets", "logistic"}


def _config(write_yaml, family: str, role: str, entry: Any) -> Any:
    if family == "classification":
        raw = {"name": "x", "task": "churn", "data": {"path": "c.csv", "target": "y"}}
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
