"""Weighted metrics, bootstrap CIs and paired differences, checked against scikit-learn
and against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from salesml.experiment.evaluation import (
    CLASSIFICATION_METRICS,
    bootstrap_map,
    bootstrap_weights,
    chunk_size,
    classification_report,
    mean_difference,
    metric_difference,
    weighted_classification_metrics,
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _scored(n: int, seed: int, signal: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes drawn from known probabilities, and those probabilities as scores."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = _sigmoid(signal * x - 1.0)
    y = (rng.random(n) < p).astype(int)
    return y, p


def _sklearn_metrics(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": roc_auc_score(y, p, sample_weight=w),
        "pr_auc": average_precision_score(y, p, sample_weight=w),
        "brier": brier_score_loss(y, p, sample_weight=w),
        "log_loss": log_loss(y, p, sample_weight=w, labels=[0, 1]),
    }


# --------------------------------------------------------------------------- metrics vs sklearn


@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_weighted_metrics_equal_sklearn_with_bootstrap_counts(decimals):
    """decimals=1 gives heavy ties (about ten distinct scores); decimals=0 gives two."""
    y, p = _scored(300, seed=3)
    if decimals is not None:
        p = np.clip(np.round(p, decimals), 0.05, 0.95)
    assert (len(np.unique(p)) <= 11) if decimals is not None else (len(np.unique(p)) == 300)
    weights = next(bootstrap_weights(len(y), 25, seed=5))
    got = weighted_classification_metrics(y, p, weights)
    for b, w in enumerate(weights):
        expected = _sklearn_metrics(y, p, w)
        for name, value in expected.items():
            assert got[name][b] == pytest.approx(value, rel=1e-10, abs=1e-12), (name, b)


def test_unweighted_point_estimate_equals_sklearn():
    y, p = _scored(500, seed=8)
    got = weighted_classification_metrics(y, p)
    assert set(got) == set(CLASSIFICATION_METRICS)
    assert all(v.shape == (1,) for v in got.values())
    for name, value in _sklearn_metrics(y, p, np.ones(len(y))).items():
        assert got[name][0] == pytest.approx(value, rel=1e-12)


def test_probabilities_of_exactly_0_and_1_match_sklearn():
    """Isotonic baselines output 0 and 1; a confident miss must cost what sklearn says."""
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    p = np.array([0.0, 0.0, 1.0, 1.0, 0.5, 0.25, 1.0, 0.0])
    w = np.vstack([np.ones(8), [2, 0, 1, 1, 3, 0, 1, 0]])
    got = weighted_classification_metrics(y, p, w)
    for b in range(2):
        for name, value in _sklearn_metrics(y, p, w[b]).items():
            assert got[name][b] == pytest.approx(value, rel=1e-10), (name, b)


def test_frequency_weights_equal_repeating_rows():
    """A weight of k means the row occurs k times: every metric, including the top-k ones."""
    y, p = _scored(120, seed=4)
    p = np.round(p, 1)  # ties across the 10 % and 20 % cut-offs
    w = next(bootstrap_weights(len(y), 1, seed=9))[0]
    weighted = weighted_classification_metrics(y, p, w)
    idx = np.repeat(np.arange(len(y)), w.astype(int))
    repeated = weighted_classification_metrics(y[idx], p[idx])
    for name in CLASSIFICATION_METRICS:
        assert weighted[name][0] == pytest.approx(repeated[name][0], rel=1e-12), name


def test_boolean_or_integer_outcomes_give_the_same_metrics():
    y, p = _scored(200, seed=1)
    a = weighted_classification_metrics(y, p)
    b = weighted_classification_metrics(y.astype(bool), p)
    for name in CLASSIFICATION_METRICS:
        assert a[name][0] == b[name][0]


# --------------------------------------------------------------------------- lift and capture


def test_lift_and_capture_against_hand_computation_tie_free():
    # 20 rows; by descending score the outcomes are:
    ranked_y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    ranked_p = np.linspace(0.95, 0.05, 20)
    # Hand: 5 positives of 20 -> base rate 0.25.
    # Top 10 % = 2 rows hold 1 positive -> precision 0.5 -> lift 0.5 / 0.25 = 2.0.
    # Top 20 % = 4 rows hold 3 positives -> capture 3 / 5 = 0.6.
    perm = np.random.default_rng(0).permutation(20)  # row order must not matter
    got = weighted_classification_metrics(ranked_y[perm], ranked_p[perm])
    assert got["lift_at_10"][0] == pytest.approx(2.0, rel=1e-12)
    assert got["capture_at_20"][0] == pytest.approx(0.6, rel=1e-12)


def test_lift_takes_expected_value_over_ties_at_the_cut_off():
    # 10 rows, top 10 % = 1 row. The two best rows tie, one positive one negative:
    # random tie-breaking finds 0.5 positives in expectation.
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    got = weighted_classification_metrics(y, p)
    # precision in top 1 row = 0.5; base rate = 0.2 -> lift 2.5
    assert got["lift_at_10"][0] == pytest.approx(2.5, rel=1e-12)
    # top 2 rows = the tie group (1 positive) -> capture 1 / 2
    assert got["capture_at_20"][0] == pytest.approx(0.5, rel=1e-12)
    # Reversing the order of the tied rows changes nothing.
    y2 = y.copy()
    y2[[0, 1]] = y2[[1, 0]]
    assert weighted_classification_metrics(y2, p)["lift_at_10"][0] == got["lift_at_10"][0]


@pytest.mark.parametrize("n", [10, 37, 250, 1001])
def test_constant_scores_give_auc_half_and_lift_one_exactly(n):
    """AUC is exactly 0.5; lift is 1.0 up to float rounding (one ulp at n=1001), whereas
    ranking by row order would give a visibly different lift (the first row is positive)."""
    y = np.zeros(n, dtype=int)
    y[::3] = 1  # positives spread over the row order, one at the very start
    got = weighted_classification_metrics(y, np.full(n, 0.3))
    assert got["roc_auc"][0] == 0.5
    assert got["lift_at_10"][0] == pytest.approx(1.0, rel=0, abs=1e-12)
    assert got["capture_at_20"][0] == pytest.approx(0.2, abs=1e-12)
    # and the same under bootstrap weights
    w = next(bootstrap_weights(n, 5, seed=1))
    gw = weighted_classification_metrics(y, np.full(n, 0.3), w)
    has_both = (w @ y > 0) & (w @ (1 - y) > 0)
    np.testing.assert_array_equal(gw["roc_auc"][has_both], 0.5)
    np.testing.assert_allclose(gw["lift_at_10"][w @ y > 0], 1.0, rtol=0, atol=1e-12)


def test_perfect_and_reversed_ranking():
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert weighted_classification_metrics(y, p)["roc_auc"][0] == 1.0
    assert weighted_classification_metrics(y, p)["pr_auc"][0] == 1.0
    assert weighted_classification_metrics(y, 1 - p)["roc_auc"][0] == 0.0


# --------------------------------------------------------------------------- bootstrap weights


def test_bootstrap_weights_shape_sums_and_determinism():
    n = 57
    chunks = list(bootstrap_weights(n, 250, seed=3, chunk=100))
    assert [c.shape for c in chunks] == [(100, n), (100, n), (50, n)]
    w = np.vstack(chunks)
    np.testing.assert_array_equal(w.sum(1), n)
    assert (w >= 0).all() and np.array_equal(w, np.round(w))
    again = np.vstack(list(bootstrap_weights(n, 250, seed=3, chunk=100)))
    np.testing.assert_array_equal(w, again)
    other = np.vstack(list(bootstrap_weights(n, 250, seed=4, chunk=100)))
    assert not np.array_equal(w, other)
    # replicates differ from each other and every row is drawn about once on average
    assert len({tuple(r) for r in w}) == 250
    assert w.mean(0) == pytest.approx(np.ones(n), abs=0.35)


def test_bootstrap_weights_do_not_depend_on_chunk_size_count():
    n = 30
    total = sum(len(c) for c in bootstrap_weights(n, 1000, seed=0, chunk=64))
    assert total == 1000


def test_bootstrap_weights_are_the_same_draws_whatever_the_chunk_size():
    n = 45
    big = np.vstack(list(bootstrap_weights(n, 300, seed=9, chunk=100)))
    small = np.vstack(list(bootstrap_weights(n, 300, seed=9, chunk=7)))
    np.testing.assert_array_equal(big, small)


def test_chunks_shrink_for_long_test_sets_to_bound_memory():
    assert chunk_size(1_000) == 100
    assert chunk_size(250_000) * 250_000 <= 4_000_000 and chunk_size(250_000) >= 1
    assert chunk_size(10**8) == 1


def test_threaded_bootstrap_equals_the_serial_loop_in_order():
    rng = np.random.default_rng(2)
    y = rng.random(3_000) < 0.3
    p = np.clip(0.2 + 0.4 * y + rng.normal(0, 0.25, y.size), 0, 1)
    serial = classification_report(y, p, n_boot=400, seed=5, n_jobs=1)
    threaded = classification_report(y, p, n_boot=400, seed=5, n_jobs=3)
    assert serial == threaded  # bit-identical, not approximately equal
    a, b = p, np.clip(p + rng.normal(0, 0.1, p.size), 0, 1)
    assert metric_difference(y, a, b, n_boot=300, seed=1, n_jobs=1) == metric_difference(
        y, a, b, n_boot=300, seed=1, n_jobs=2
    )
    # chunks come back in draw order: the first weight of each chunk identifies it
    firsts = bootstrap_map(lambda w: w[0, 0], 50, 1_000, seed=4, n_jobs=4)
    expected = [w[0, 0] for w in bootstrap_weights(50, 1_000, seed=4)]
    assert firsts == expected and len(set(map(float, firsts))) > 1


# --------------------------------------------------------------------------- reports


def test_classification_report_ci_contains_point_and_narrows_with_rows():
    small_y, small_p = _scored(200, seed=11)
    big_y, big_p = _scored(5000, seed=11)
    small = classification_report(small_y, small_p, n_boot=300, seed=0)
    big = classification_report(big_y, big_p, n_boot=300, seed=0)
    for name in CLASSIFICATION_METRICS:
        for rep in (small, big):
            lo, hi = rep[f"{name}_ci"]
            assert lo <= rep[name] <= hi, name
        width_small = np.diff(small[f"{name}_ci"])[0]
        width_big = np.diff(big[f"{name}_ci"])[0]
        assert width_big < 0.6 * width_small, name
    assert small["roc_auc"] == pytest.approx(roc_auc_score(small_y, small_p))
    # plain floats and two-element lists, so they serialise to JSON
    assert isinstance(small["roc_auc"], float)
    assert isinstance(small["roc_auc_ci"], list) and len(small["roc_auc_ci"]) == 2


def test_classification_report_is_seeded():
    y, p = _scored(300, seed=2)
    a = classification_report(y, p, n_boot=100, seed=7)
    b = classification_report(y, p, n_boot=100, seed=7)
    c = classification_report(y, p, n_boot=100, seed=8)
    assert a == b
    assert a["roc_auc_ci"] != c["roc_auc_ci"]


def test_metric_difference_of_a_model_with_itself_is_exactly_zero():
    y, p = _scored(300, seed=5)
    delta, ci = metric_difference(y, p, p.copy(), "roc_auc", n_boot=200, seed=0)
    assert delta == 0.0
    assert ci == [0.0, 0.0]


def test_metric_difference_of_a_clearly_better_model_excludes_zero():
    y, p_good = _scored(600, seed=6, signal=2.5)
    p_noise = np.random.default_rng(1).random(len(y))
    delta, ci = metric_difference(y, p_good, p_noise, "roc_auc", n_boot=300, seed=0)
    assert delta == pytest.approx(roc_auc_score(y, p_good) - roc_auc_score(y, p_noise))
    assert ci[0] > 0 and ci[0] <= delta <= ci[1]
    reverse, rci = metric_difference(y, p_noise, p_good, "roc_auc", n_boot=300, seed=0)
    assert reverse == pytest.approx(-delta)
    assert rci[1] < 0


def test_metric_difference_is_a_paired_bootstrap():
    """Same resamples for both models: recompute the CI with scikit-learn per replicate."""
    y, p_a = _scored(150, seed=12)
    p_b = np.clip(p_a + np.random.default_rng(3).normal(0, 0.2, len(y)), 0.01, 0.99)
    n_boot = 60
    delta, ci = metric_difference(y, p_a, p_b, "brier", n_boot=n_boot, seed=4, confidence=0.9)
    reps = [
        brier_score_loss(y, p_a, sample_weight=w) - brier_score_loss(y, p_b, sample_weight=w)
        for w in np.vstack(list(bootstrap_weights(len(y), n_boot, seed=4)))
    ]
    np.testing.assert_allclose(ci, np.quantile(reps, [0.05, 0.95]), rtol=1e-9)
    assert delta == pytest.approx(brier_score_loss(y, p_a) - brier_score_loss(y, p_b))


def test_mean_difference_against_hand_computed_mean():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([0.5, 0.0, 1.0, 1.0, 4.0])
    # differences 0.5, 2, 2, 3, 1 -> mean 8.5 / 5 = 1.7
    delta, ci = mean_difference(a, b, n_boot=500, seed=0)
    assert delta == pytest.approx(1.7, rel=1e-12)
    assert 0.5 <= ci[0] <= delta <= ci[1] <= 3.0
    const, cci = mean_difference(a, a - 0.25, n_boot=100, seed=0)
    assert const == pytest.approx(0.25)
    assert cci == pytest.approx([0.25, 0.25])


def test_decile_lift_of_a_perfect_ranking_and_of_noise():
    from salesml.classify.plots import decile_lift

    y = np.r_[np.ones(10), np.zeros(90)]
    assert decile_lift(y, y.copy()).tolist() == [10.0] + [0.0] * 9
    rng = np.random.default_rng(0)
    y = rng.random(20_000) < 0.2
    lift = decile_lift(y, rng.random(20_000))
    assert np.allclose(lift, 1.0, atol=0.15)
    assert np.isclose(np.mean(lift), 1.0)


# ----------------------------------------------------- too few units, block bootstrap, verdicts


def test_one_unit_gives_a_zero_width_interval_which_is_why_there_is_a_minimum():
    """The bug the minimum prevents: a bootstrap over one series always draws that series."""
    delta, ci = mean_difference(np.array([0.9]), np.array([1.4]), n_boot=200, seed=0)
    assert delta == pytest.approx(-0.5) and ci == pytest.approx([-0.5, -0.5])


def test_circular_block_weights_are_seeded_whole_and_uniform():
    from salesml.experiment.evaluation import circular_block_weights

    a = np.vstack(list(circular_block_weights(21, 7, 3000, seed=4)))
    b = np.vstack(list(circular_block_weights(21, 7, 3000, seed=4, chunk=17)))
    assert a.shape == (3000, 21) and np.array_equal(a, b)  # chunking does not change draws
    assert (a.sum(1) == 21).all()
    # circular blocks: every position is drawn once per replicate on average
    np.testing.assert_allclose(a.mean(0), 1.0, atol=0.08)
    assert not np.array_equal(a, np.vstack(list(circular_block_weights(21, 7, 3000, seed=5))))


def test_a_replicate_of_the_block_bootstrap_is_made_of_consecutive_runs():
    """Rebuilt by a plain loop: blocks start anywhere, wrap around, the last one is cut."""
    from salesml.experiment.evaluation import circular_block_weights

    n, block, b = 20, 6, 40  # 4 blocks of 6 = 24 positions, cut to 20
    got = next(circular_block_weights(n, block, b, seed=1))
    starts = np.random.default_rng(1).integers(0, n, size=(b, 4))
    for r in range(b):
        drawn = [(s + j) % n for s in starts[r] for j in range(block)][:n]
        assert got[r].tolist() == np.bincount(drawn, minlength=n).tolist()


def test_block_bootstrap_is_wider_than_the_ordinary_one_for_correlated_errors():
    """Errors of one origin move together: resampling single periods understates the spread."""
    from salesml.experiment.evaluation import bootstrap_map, interval

    rng = np.random.default_rng(0)
    level = np.repeat(rng.normal(0, 1, 12), 7)  # 12 windows of 7 steps share a level error
    e = level + rng.normal(0, 0.2, level.size)

    def mean(w):
        return w @ e / w.sum(1)

    single = interval(np.concatenate(bootstrap_map(mean, e.size, 2000, 3)), 0.95)
    blocks = interval(np.concatenate(bootstrap_map(mean, e.size, 2000, 3, block=7)), 0.95)
    assert np.diff(blocks)[0] > 1.8 * np.diff(single)[0]


def test_too_few_rows_of_a_class_gives_no_interval_and_no_difference():
    from salesml.experiment.evaluation import MIN_UNITS, NotEnoughData, class_units

    rng = np.random.default_rng(3)
    y = np.r_[np.ones(MIN_UNITS - 1), np.zeros(200)].astype(int)
    p_a, p_b = rng.random(y.size), rng.random(y.size)
    assert class_units(y) == MIN_UNITS - 1
    report = classification_report(y, p_a, n_boot=50, seed=0)
    assert report["roc_auc"] == pytest.approx(roc_auc_score(y, p_a))
    assert not [k for k in report if k.endswith("_ci")]
    with pytest.raises(NotEnoughData, match=r"9 positive and 200 negative rows") as exc:
        metric_difference(y, p_a, p_b, n_boot=50, seed=0)
    assert exc.value.point == pytest.approx(roc_auc_score(y, p_a) - roc_auc_score(y, p_b))
    # one more positive and there is an interval
    y2 = np.r_[np.ones(MIN_UNITS), np.zeros(200)].astype(int)
    p2 = rng.random(y2.size)
    assert "roc_auc_ci" in classification_report(y2, p2, n_boot=50, seed=0)
    assert len(metric_difference(y2, p2, p2[::-1].copy(), n_boot=50, seed=0)[1]) == 2


@pytest.mark.parametrize("lower_is_better", [False, True])
def test_decide_reads_the_ci_of_model_minus_rule(lower_is_better):
    from salesml.experiment.results import decide

    better, worse = ([-0.3, -0.1], [0.1, 0.3]) if lower_is_better else ([0.1, 0.3], [-0.3, -0.1])
    assert decide(better, lower_is_better) == "model"
    assert decide(worse, lower_is_better) == "rule"
    assert decide([-0.1, 0.1], lower_is_better) == "tie"
    assert decide([0.0, 0.2], lower_is_better) == "tie"  # touching 0 is not significant


def test_a_rule_that_ranks_better_wins_significantly_at_the_evaluation_level():
    """Seeded predictions: the rule sees the signal, the model half of it."""
    from salesml.experiment.results import decide

    rng = np.random.default_rng(7)
    x = rng.normal(size=2000)
    y = (rng.random(x.size) < _sigmoid(2.0 * x - 1.0)).astype(int)
    rule = _sigmoid(2.0 * x)
    model = _sigmoid(2.0 * (0.5 * x + rng.normal(0, 0.9, x.size)))
    delta, ci = metric_difference(y, model, rule, "roc_auc", n_boot=400, seed=0)
    assert delta == pytest.approx(roc_auc_score(y, model) - roc_auc_score(y, rule))
    assert ci[1] < 0 and decide(ci, lower_is_better=False) == "rule"
    # and an equally good model (the same signal, other noise) is a tie, not a loss
    twin = _sigmoid(2.0 * x + rng.normal(0, 0.05, x.size))
    _, tci = metric_difference(y, twin, rule, "roc_auc", n_boot=400, seed=0)
    assert decide(tci, lower_is_better=False) == "tie"


# --------------------------------------------------------- forecast errors by time position


def _backtest(n_series: int, windows: int, horizon: int, seed: int = 0):
    """A scored backtest frame as the forecast task stores it (windows 1..windows)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_series):
        for k in range(1, windows + 1):
            scale, scale2 = rng.uniform(0.5, 2.0), rng.uniform(0.5, 4.0)
            for step in range(1, horizon + 1):
                y = rng.uniform(5, 15)
                yhat = y + rng.normal(0, 2)
                ds = pd.Timestamp("2024-01-01") + pd.Timedelta(days=(k - 1) * horizon + step)
                rows.append((f"s{s}", ds, y, yhat, k, step, scale, scale2, y - 3, yhat + 3))
    cols = ["unique_id", "ds", "y", "yhat", "window", "step", "scale", "scale2", "lo-80", "hi-80"]
    return pd.DataFrame(rows, columns=cols)


def test_time_grid_statistics_at_unit_weights_are_the_run_metrics():
    from salesml.forecast.metrics import (
        coverage,
        evaluate_forecasts,
        grid_mase,
        grid_ratio,
        grid_rmsse,
        point_terms,
        time_grid,
    )

    fc = _backtest(3, 4, 5)
    fc = fc[~((fc["unique_id"] == "s2") & (fc["window"] == 1))]  # a series new in window 2
    metrics, _, _ = evaluate_forecasts(fc, [])
    grid = time_grid(point_terms(fc))
    assert grid.positions == 4 * 5 and grid.present.sum() == len(fc)
    assert grid_mase(grid)(None)[0] == pytest.approx(metrics["mase"], rel=1e-12)
    assert grid_rmsse(grid)(None)[0] == pytest.approx(metrics["rmsse"], rel=1e-12)
    assert grid_ratio(grid, "ae", "ay")(None)[0] == pytest.approx(metrics["wape"], rel=1e-12)
    assert grid_ratio(grid, "err", "ay")(None)[0] == pytest.approx(metrics["bias"], rel=1e-12)
    cover = coverage(fc["y"], fc["lo-80"], fc["hi-80"])
    assert grid_ratio(grid, "in-80", "n")(None)[0] == pytest.approx(cover, rel=1e-12)
    # weights on positions: doubling every position changes nothing, dropping one does
    w = np.vstack([np.full(20, 2.0), np.r_[0.0, np.ones(19)]])
    got = grid_mase(grid)(w)
    assert got[0] == pytest.approx(metrics["mase"]) and got[1] != pytest.approx(metrics["mase"])


@pytest.mark.parametrize(
    ("series", "windows", "kind"),
    [
        (10, 1, "series"),
        (45, 4, "series"),
        (9, 10, "blocks"),
        (1, 12, "blocks"),
        (9, 9, None),
        (1, 3, None),
    ],
)
def test_forecast_units_pick_series_then_blocks_then_nothing(series, windows, kind):
    from salesml.experiment.evaluation import MIN_UNITS
    from salesml.forecast.metrics import units_of

    horizon = 7
    units = units_of(_backtest(series, windows, horizon), series)
    assert (units.series, units.periods, units.block) == (series, windows * horizon, horizon)
    assert units.blocks == windows and units.minimum == MIN_UNITS
    assert units.kind == kind
    if kind is None:
        text = units.shortfall(0.9)
        assert f"{series} series and {windows * horizon} scored periods" in text
        assert "a 90% CI needs at least 10 series or 10 blocks" in text


def test_weights_are_the_draws_counted():
    """Each replicate's weights count the units its draws picked (the same generator stream)."""
    n, seed = 400, 11
    weights = np.vstack(list(bootstrap_weights(n, 30, seed=seed, chunk=8)))
    rng = np.random.default_rng(seed)
    draws = np.vstack([rng.integers(0, n, size=(b, n)) for b in (8, 8, 8, 6)])
    expected = np.stack([np.bincount(row, minlength=n) for row in draws]).astype(float)
    np.testing.assert_array_equal(weights, expected)


@pytest.mark.parametrize("case", ["ties", "one_class", "all_tied", "empty"])
def test_the_ranking_sorted_once_groups_as_a_sort_per_block(case):
    """Ranking's groups equal sorting and summing every block on its own, to the bit."""
    from salesml.experiment.evaluation import Ranking

    rng = np.random.default_rng(2)
    n = {"empty": 0}.get(case, 300)
    y = rng.random(n) < 0.3
    p = np.round(rng.random(n), 1)  # many ties
    if case == "one_class":
        y[:] = False
    if case == "all_tied":
        p[:] = 0.5
    w = rng.integers(0, 4, size=(5, n)).astype(float)
    order = np.argsort(-p, kind="mergesort")
    ps, ys, ws = p[order], y[order], w[:, order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]]) if n else np.zeros(0, int)
    pos, neg = Ranking(y, p).groups(w)
    if n:
        np.testing.assert_array_equal(pos, np.add.reduceat(ws * ys, starts, axis=1))
        np.testing.assert_array_equal(neg, np.add.reduceat(ws * ~ys, starts, axis=1))
    else:
        assert pos.shape == neg.shape == (5, 0)


def test_shared_replicates_are_drawn_once_and_change_nothing(monkeypatch):
    from salesml.experiment import bootstrap

    rng = np.random.default_rng(8)
    y = (rng.random(3000) < 0.3).astype(int)
    p_a, p_b = np.clip(0.3 * y + rng.random(3000), 0, 1), rng.random(3000)
    alone = classification_report(y, p_a, 200, seed=3, n_jobs=2)
    diff_alone = metric_difference(y, p_a, p_b, n_boot=200, seed=3, n_jobs=2)
    draws = []
    real = bootstrap.bootstrap_weights
    monkeypatch.setattr(
        bootstrap, "bootstrap_weights", lambda *a, **k: draws.append(a) or real(*a, **k)
    )
    with bootstrap.shared_replicates():
        first = classification_report(y, p_a, 200, seed=3, n_jobs=2)
        second = classification_report(y, p_a, 200, seed=3, n_jobs=2)
        diff = metric_difference(y, p_a, p_b, n_boot=200, seed=3, n_jobs=2)
        other_seed = classification_report(y, p_a, 200, seed=4, n_jobs=1)
        with bootstrap.shared_replicates():  # nested: the same store
            classification_report(y, p_b, 200, seed=3, n_jobs=1)
        assert bootstrap._SHARED is not None
    assert bootstrap._SHARED is None  # forgotten on leaving
    assert first == second == alone and diff == diff_alone
    assert other_seed != alone
    assert len(draws) == 2  # seed 3 once, seed 4 once
    monkeypatch.setattr(bootstrap, "SHARED_BYTES", 100)  # too large to keep: drawn each time
    with bootstrap.shared_replicates():
        classification_report(y, p_a, 200, seed=3, n_jobs=1)
        classification_report(y, p_a, 200, seed=3, n_jobs=1)
    assert len(draws) == 4


def _metrics_by_passes(y, p, w):
    """The whole-array formulas the metrics were first written with (the reference)."""
    y, order = y.astype(bool), np.argsort(-p, kind="mergesort")
    ps, ys, ws = p[order], y[order], w[:, order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    wpos, wneg = np.add.reduceat(ws * ys, starts, axis=1), np.add.reduceat(ws * ~ys, starts, axis=1)
    pos, neg = wpos.sum(1), wneg.sum(1)
    total = pos + neg
    cum_neg, tp = np.cumsum(wneg, axis=1), np.cumsum(wpos, axis=1)
    group = wpos + wneg
    prev = np.cumsum(group, axis=1) - group

    def found(q):
        frac = np.clip((q * total[:, None] - prev) / np.maximum(group, 1e-15), 0.0, 1.0)
        return (frac * wpos).sum(1)

    return {
        "roc_auc": (wpos * (neg[:, None] - cum_neg + 0.5 * wneg)).sum(1) / (pos * neg),
        "pr_auc": (wpos * tp / np.maximum(tp + cum_neg, 1e-15)).sum(1) / pos,
        "lift_at_10": (found(0.10) / (0.10 * total)) / (pos / total),
        "capture_at_20": found(0.20) / pos,
    }


@pytest.mark.parametrize("ties", [False, True])
def test_the_metrics_equal_the_whole_array_formulas(ties):
    rng = np.random.default_rng(12)
    n = 5000
    y = (rng.random(n) < 0.2).astype(int)
    p = np.clip(0.2 + 0.2 * y + rng.normal(0, 0.15, n), 0, 1)
    p = np.round(p, 2) if ties else p
    w = np.vstack([np.ones(n), *bootstrap_weights(n, 40, seed=1, chunk=40)])
    got, expected = weighted_classification_metrics(y, p, w), _metrics_by_passes(y, p, w)
    for name, values in expected.items():
        np.testing.assert_allclose(got[name], values, rtol=1e-12, err_msg=name)
