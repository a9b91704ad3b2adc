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
#
# The experiment runs once; everything below comes from the finished run, reopened from
# its folder with `salesml.load_run`. The run keeps every candidate's test predictions,
# so any metric can be asked for afterwards, with its bootstrap interval, without
# refitting anything.

# %%
from pathlib import Path

from IPython.display import Image, display

import salesml

config = salesml.load_experiment(CONFIG, OVERRIDES)
print(config.description)
salesml.run_experiment(config, output_dir=Path(OUTPUT_DIR), tracking_uri=TRACKING_URI, quiet=True)

run = salesml.load_run(OUTPUT_DIR)
champion = run.summary.champion
rules = run.rules  # the baselines a sales team uses (not the no-skill floor)
print(f"Reopened {run.source}: candidates {', '.join(run.candidates)}")
print(f"Champion {champion.name}; rules {', '.join(rules)}; best rule {champion.baseline}")

# %% [markdown]
# ## Test metrics with bootstrap intervals (at the run's confidence level)

# %%
print(salesml.ci_label(run.summary.experiment.confidence), "of ROC-AUC in roc_auc_ci_low/high")
table = run.metrics_frame()
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
best = table.loc[champion.name]
for rule in rules:
    print(
        f"Calling the top 20 % by {champion.name} finds {best['capture_at_20']:.0%} of "
        f"conversions; by {rule} {table.loc[rule, 'capture_at_20']:.0%}."
    )
print(salesml.champion_verdict(run.summary))

# %% [markdown]
# ## One lead in ten: a metric the run did not compute
#
# A team with half the capacity calls the top 10 %. The run reported `capture_at_20`, not
# `capture_at_10`; the reopened run computes it for every candidate from the kept test
# predictions, with the run's own bootstrap settings (`lift_at_10` in the table above is
# the same share divided by 10 %).

# %%
run.metric_table("capture_at_10").round(3)

# %% [markdown]
# Is the champion's advantage in the top 10 % real? Each line below is the champion minus
# a rule on the same test leads (paired bootstrap): an interval that contains 0 means
# this test set cannot tell the two apart at that depth.

# %%
print(run.metric("capture_at_10"))
for rule in rules:
    print(run.metric("capture_at_10", against=rule))

# %% [markdown]
# ## Curves: ROC, precision-recall, cumulative gains, calibration

# %%
display(Image(filename=str(run.figure("comparison"))))

# %% [markdown]
# ## The champion's own evaluation: curves, calibration and scores by outcome

# %%
display(Image(filename=str(run.figure("evaluation"))))

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
scores = model.predict(salesml.feature_frame(leads, run.summary.data.features))
scores.insert(0, "lead_id", leads["lead_id"].to_numpy())
display(scores)
