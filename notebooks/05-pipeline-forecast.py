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
CONFIG = "../experiments/pipeline/demo.yaml"
OUTPUT_DIR = "../reports/notebook-pipeline-forecast"
TRACKING_URI = None  # None: MLFLOW_TRACKING_URI or the project's mlflow.db
OVERRIDES: list[str] = []

# %% [markdown]
# # What will we book this month? The pipeline forecast against the CRM's rules
#
# A sales leader's forecast is the period's bookings from the open pipeline. Every CRM
# computes one with a rule: the **stage-weighted pipeline**, each open deal's amount
# times its stage's probability, over the deals expected to close in the period. Here
# that rule, and the other rules a sales team uses (stage weights learned from past
# periods, the reps' commit call, last period's bookings, the same period last year),
# meet a deal-by-deal model in a backtest: at the start of each of the last months, the
# pipeline is rebuilt as it stood that day from the stage history, every candidate
# forecasts the month's bookings by segment, and the month then says who was right.
#
# The experiment runs once; everything below comes from the finished run, reopened
# with `salesml.load_run`, and from the exported champion.

# %%
from pathlib import Path

from IPython.display import Image, display

import salesml

config = salesml.load_experiment(CONFIG, OVERRIDES)
print(config.description)
salesml.run_experiment(config, output_dir=Path(OUTPUT_DIR), tracking_uri=TRACKING_URI, quiet=True)

run = salesml.load_run(OUTPUT_DIR)
champion = run.summary.champion
data = run.summary.data
print(f"{data.rows:,} deals, win rate {data.win_rate:.1%}; backtest {', '.join(data.cutoffs)}")
print(f"Champion {champion.name}, best rule {champion.baseline}")

# %% [markdown]
# ## Backtest: period bookings by segment (lower error is better; coverage should be 80 %)

# %%
table = run.metrics_frame()
columns = ["role", "mae", "mae_ci_low", "mae_ci_high", "wape", "bias", "coverage_80", "deal_auc"]
table[[c for c in columns if c in table]].round(3)

# %%
print(salesml.champion_verdict(run.summary))

# %% [markdown]
# ## The champion against the CRM's weighted pipeline, on the same periods
#
# The verdict compares the champion with the best rule. The rule most sales teams
# actually report is the CRM's weighted pipeline, so here is the champion against it:
# the difference in mean absolute error of period bookings and in WAPE (paired
# bootstrap over periods x segments; below 0: the champion misses less), and each one's
# bias (the weighted pipeline's is the over-forecast sales leaders discount by habit).

# %%
for name in ["mae", "wape", "bias"]:
    print(run.metric(name, against="stage_weighted"))
print(run.metric("bias"))
print(run.metric("bias", "stage_weighted"))

# %% [markdown]
# ## Forecast against actual, month by month

# %%
display(Image(filename=str(run.figure("forecast_vs_actual"))))

# %% [markdown]
# ## The funnel it grows from
#
# The same export through `salesml funnel`: won, lost and open are read from the
# stage column (a close date is set on lost deals too), so the win rate is the real one.

# %%
funnel = salesml.run_funnel(config.data.path, Path(OUTPUT_DIR) / "funnel")
{k: round(v, 3) for k, v in funnel.report.headline.items() if k in ("rows", "won", "win_rate")}

# %% [markdown]
# ## This month's forecast from the exported champion
#
# The exported model reads today's opportunities export: each open deal's probability
# of being won by the month's end and its expected value, the known facts behind it,
# and the month's bookings by segment and in total with an 80 % interval. Time in stage
# and close-date pushes need the stage history, which the export does not carry: the
# model sees them blank and does not give them as reasons.

# %%
model = salesml.load_model(champion.model_uri, TRACKING_URI)
export = salesml.read_frame(config.data.path)
forecast = model.predict(export)
segments = forecast[forecast["level"] == "segment"]
segments[["segment", "period", "booked", "mean", "q10", "q90"]].round(0)

# %% [markdown]
# The deals that drive it: the largest expected values.

# %%
deals = forecast[forecast["level"] == "deal"].sort_values("expected", ascending=False)
deals[["opportunity_id", "segment", "stage", "amount", "probability", "expected", "reason_1"]].head(
    10
).round(3)
