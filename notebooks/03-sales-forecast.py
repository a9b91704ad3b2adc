# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
# Parameters (the test suite overrides these to run small and into a temporary store).
CONFIG = "../experiments/forecast/demo.yaml"
OUTPUT_DIR = "../reports/notebook-sales-forecast"
TRACKING_URI = None  # None: MLFLOW_TRACKING_URI or the project's mlflow.db
OVERRIDES: list[str] = []

# %% [markdown]
# # Sales forecasts: do models beat naive, seasonal naive and last year's growth?
#
# A sales manager's forecast is often "the same period last year, times this year's
# growth". Here every candidate is judged by a rolling-origin backtest: several forecast
# origins, each model trained only on data before its origin, scored by MASE (error
# relative to the in-sample seasonal naive), with conformal prediction intervals whose
# coverage is checked on data they never saw.
#
# The experiment runs once; everything below comes from the finished run, reopened from
# its folder with `salesml.load_run`: it keeps every candidate's backtest forecasts, so
# any metric can be computed afterwards, with a bootstrap interval over series.

# %%
from pathlib import Path

from IPython.display import Image, display

import salesml

config = salesml.load_experiment(CONFIG, OVERRIDES)
print(config.description)
salesml.run_experiment(config, output_dir=Path(OUTPUT_DIR), tracking_uri=TRACKING_URI, quiet=True)

run = salesml.load_run(OUTPUT_DIR)
champion = run.summary.champion
print(f"Reopened {run.source}: champion {champion.name}, best rule {champion.baseline}")

# %% [markdown]
# ## Backtest metrics (lower is better; coverage should match its level)

# %%
table = run.metrics_frame()
coverages = [c for c in table.columns if c.startswith("coverage_")]
columns = ["role", "mase", "mase_ci_low", "mase_ci_high", "wape", "smape", "bias", *coverages]
table[[c for c in columns if c in table]].round(3)

# %%
print(salesml.champion_verdict(run.summary))
rule = run.summary.champion.baseline  # the best rule: the one the verdict uses
if rule:
    ratio = table.loc[champion.name, "mase"] / table.loc[rule, "mase"]
    print(f"Champion MASE is {ratio:.2f} x the best rule's ({rule}).")

# %% [markdown]
# ## The champion against the best rule, series by series
#
# The verdict above compares MASE. A planner also asks how much volume the forecast
# misses (WAPE: absolute errors over actual sales) and whether the intervals can be
# trusted (coverage: the share of actuals inside the interval, which should be close to
# its level). For each metric: the champion, the best rule, then the champion minus the
# rule on the same series (paired bootstrap over series). A WAPE difference below 0 is
# volume the champion no longer misses; a coverage difference whose interval contains 0
# means this backtest cannot tell the two coverages apart.

# %%
for name in ["wape", *coverages]:
    print(run.metric(name))
    print(run.metric(name, champion.baseline))
    print(run.metric(name, against=champion.baseline))
    print()

# %% [markdown]
# ## Comparison figures
#
# Every candidate's error by horizon step and MASE across series, then the champion's
# intervals on the last backtest window of its largest series (history: the backtest
# windows the run kept).

# %%
display(Image(filename=str(run.figure("comparison"))))

# %%
display(Image(filename=str(run.figure("fan_chart"))))

# %% [markdown]
# ## Forecast the next horizon with the exported champion
#
# The champion is an MLflow pyfunc model. Models that use exogenous columns need the
# future values of those known in advance (`data.exog.future`: calendars, planned prices
# and promotions); `future_frame` builds a naive scenario (recent values carried forward)
# to replace with the plan. Observed-only columns (`data.exog.past`) come from the
# history the model keeps.

# %%
model = salesml.load_model(champion.model_uri, TRACKING_URI)
dc = config.data
history = salesml.to_long(
    salesml.read_frame(dc.path),
    dc.id,
    dc.time,
    dc.target,
    dc.exog.future,
    dc.date_format,
    str(dc.path),
)
ids = sorted(history["unique_id"].unique())[:3]
uses_exog = "ds" in model.metadata.get_input_schema().input_names()
known = dc.exog.future if uses_exog else []
future = salesml.future_frame(history, ids, config.horizon, dc.freq, known)
forecast = model.predict(future)
forecast.head(10)
