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
CONFIG = "../experiments/churn/telco.yaml"
OUTPUT_DIR = "../reports/notebook-churn-telco"
TRACKING_URI = None  # None: MLFLOW_TRACKING_URI or the project's mlflow.db
OVERRIDES: list[str] = []

# %% [markdown]
# # Churn on IBM Telco: models against the retention team's rules
#
# Retention teams flag customers with rules: month-to-month contracts, short tenure,
# fiber customers without tech support, electronic-check payers. Published logistic
# regressions on this dataset are the usual reference point. How much do models add over
# well-chosen rules, and is the difference real?

# %%
from pathlib import Path

from IPython.display import Image, display

import salesml

config = salesml.load_experiment(CONFIG, OVERRIDES)
table = salesml.load_table(config.data.path)
print(table.schema)

# %% [markdown]
# ## Churn by contract and tenure: the rules' raw material

# %%
frame = table.frame
churned = frame[config.data.target].eq(config.data.positive)
print(churned.groupby(frame["Contract"]).mean().round(3))
print(churned.groupby(frame["tenure"].clip(upper=72) // 12 * 12).mean().round(3))

# %% [markdown]
# ## Run the experiment, then reopen it
#
# The run keeps every candidate's test predictions beside its summary;
# `salesml.load_run` reopens it from that folder, and every number and figure below is
# computed from it.

# %%
salesml.run_experiment(config, output_dir=Path(OUTPUT_DIR), tracking_uri=TRACKING_URI, quiet=True)
run = salesml.load_run(OUTPUT_DIR)
champion = run.summary.champion
rules = run.rules  # the baselines a sales team uses (not the no-skill floor)
print(f"Reopened {run.source}: champion {champion.name}, best rule {champion.baseline}")
metrics = run.metrics_frame()
metrics[
    [
        "role",
        "roc_auc",
        "roc_auc_ci_low",
        "roc_auc_ci_high",
        "pr_auc",
        "brier",
        "lift_at_10",
        "capture_at_20",
    ]
].round(3)

# %% [markdown]
# ## Verdict

# %%
print(salesml.champion_verdict(run.summary))
print("Registered version:", champion.registered_version)

# %% [markdown]
# ## A retention team that can call one customer in ten
#
# The run ranked candidates by ROC-AUC over all customers; a team with a fixed budget
# cares about the top of the list. `capture_at_10`, the share of all churners among the
# 10 % of customers with the highest scores, is not among the run's metrics: the reopened
# run computes it from the kept test predictions, with the run's own bootstrap settings.

# %%
run.metric_table("capture_at_10").round(3)

# %% [markdown]
# The champion minus each rule on the same test customers (paired bootstrap). An interval
# that contains 0 means this test set cannot tell the two apart in the top 10 %, whatever
# the ROC-AUC verdict above.

# %%
print(run.metric("capture_at_10"))
for rule in rules:
    print(run.metric("capture_at_10", against=rule))

# %% [markdown]
# The run is also in MLflow: reopened by the id of its parent run (from any machine that
# reaches the store), it gives the same numbers.

# %%
again = salesml.load_run(run.summary.experiment.mlflow_run_id, TRACKING_URI)
print(again.source)
print(again.metric("capture_at_10", against=champion.baseline))

# %% [markdown]
# ## Curves of every candidate, and the champion's own evaluation

# %%
display(Image(filename=str(run.figure("comparison"))))

# %%
display(Image(filename=str(run.figure("evaluation"))))
