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

# %%
from pathlib import Path

from IPython.display import Image, display

import salesml

config = salesml.load_experiment(CONFIG, OVERRIDES)
print(config.description)
summary = salesml.run_experiment(config, output_dir=Path(OUTPUT_DIR), tracking_uri=TRACKING_URI)

# %% [markdown]
# ## Backtest metrics (lower is better; coverage should match its level)

# %%
table = salesml.candidates_frame(summary)
columns = [
    "role",
    "mase",
    "mase_ci_low",
    "mase_ci_high",
    "wape",
    "smape",
    "bias",
    "coverage_80",
    "coverage_95",
]
table[[c for c in columns if c in table]].round(3)

# %%
print(salesml.champion_verdict(summary))
seasonal = table.loc["seasonal_naive", "mase"] if "seasonal_naive" in table.index else None
if seasonal:
    best = table.loc[summary.champion.name, "mase"]
    print(f"Champion MASE is {best / seasonal:.2f} x seasonal naive's.")

# %% [markdown]
# ## Comparison figures

# %%
for plot in summary.plots:
    display(Image(filename=plot))

# %% [markdown]
# ## Forecast the next horizon with the exported champion
#
# The champion is an MLflow pyfunc model. Models that use exogenous columns need their
# future values; `future_frame` builds a naive scenario (recent values carried forward)
# to replace with planned prices and promotions.

# %%
model = salesml.load_model(summary.champion.model_uri, TRACKING_URI)
dc = config.data
history = salesml.to_long(
    salesml.read_frame(dc.path), dc.id, dc.time, dc.target, dc.exog, dc.date_format, str(dc.path)
)
ids = sorted(history["unique_id"].unique())[:3]
uses_exog = "ds" in model.metadata.get_input_schema().input_names()
future = salesml.future_frame(history, ids, config.horizon, dc.freq, dc.exog if uses_exog else [])
forecast = model.predict(future)
forecast.head(10)
