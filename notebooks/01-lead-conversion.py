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
CONFIG = "../experiments/lead_conversion/demo.yaml"
OUTPUT_DIR = "../reports/notebook-lead-conversion"
TRACKING_URI = None  # None: MLFLOW_TRACKING_URI or the project's mlflow.db
OVERRIDES: list[str] = []

# %% [markdown]
# # Lead conversion: does a model beat the BANT scorecard?
#
# Sales teams rank leads with a BANT scorecard: points for **b**udget, **a**uthority,
# **n**eed and **t**imeline. The question here is whether a model on everything the CRM
# records (engagement, speed to lead, source, firmographics) ranks leads better, by how
# much, and how sure we are. The split is by time: the model is trained on older leads
# and judged on the most recent quarter, as it would be used.

# %%
from pathlib import Path

from IPython.display import Image, display

import salesml

config = salesml.load_experiment(CONFIG, OVERRIDES)
print(config.description)
summary = salesml.run_experiment(config, output_dir=Path(OUTPUT_DIR), tracking_uri=TRACKING_URI)

# %% [markdown]
# ## Test metrics with bootstrap intervals (at the configured confidence level)

# %%
print(salesml.ci_label(summary.experiment.confidence), "of ROC-AUC in roc_auc_ci_low/high")
table = salesml.candidates_frame(summary)
table[
    [
        "role",
        "roc_auc",
        "roc_auc_ci_low",
        "roc_auc_ci_high",
        "pr_auc",
        "lift_at_10",
        "capture_at_20",
        "brier",
    ]
].round(3)

# %% [markdown]
# ## What it means for a team that can call one lead in five
#
# `capture_at_20` is the share of all conversions found in the top 20 % of leads by score.

# %%
champion = summary.champion
scorecards = [c for c in summary.candidates if c.type == "scorecard" and c.status == "ok"]
best = table.loc[champion.name]
for sc in scorecards:
    rules = table.loc[sc.name]
    print(
        f"Calling the top 20 % by {champion.name} finds {best['capture_at_20']:.0%} of conversions; "
        f"by {sc.name} {rules['capture_at_20']:.0%}."
    )
print(salesml.champion_verdict(summary))

# %% [markdown]
# ## Curves: ROC, precision-recall, cumulative gains, calibration

# %%
display(Image(filename=summary.plots[0]))

# %% [markdown]
# ## The champion's own evaluation, with permutation importances

# %%
display(Image(filename=str(Path(OUTPUT_DIR) / "plots" / champion.name / "evaluation.png")))

# %% [markdown]
# ## Score new leads with the exported model
#
# The champion is an MLflow model: it takes the raw CRM columns and returns, for each
# lead, the calibrated probability, a 0-100 score, a priority tier (A = the top 10 % of
# training leads) and the three strongest reasons, readable by a sales rep. The same
# model scores files with `salesml score` (pandas or Spark) and serves REST with
# `salesml serve`.

# %%
model = salesml.load_model(champion.model_uri, TRACKING_URI)
leads = salesml.load_table(config.data.path).frame.tail(5)
scores = model.predict(salesml.feature_frame(leads, summary.data.features))
scores.insert(0, "lead_id", leads["lead_id"].to_numpy())
display(scores)
