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
SURVIVAL = "../experiments/churn/telco-survival.yaml"
VALUE = "../experiments/customer_value/cdnow.yaml"
OUTPUT_DIR = "../reports/notebook-customer-lifecycle"
TRACKING_URI = None  # None: MLFLOW_TRACKING_URI or the project's mlflow.db
OVERRIDES: list[str] = []  # applied to both experiments

# %% [markdown]
# # After the sale: when customers leave, what they are worth, and the value at risk
#
# The customer lifecycle runs from reach and acquisition through conversion to
# retention and loyalty. Notebook 02 asks *whether* a Telco customer will churn, on a
# snapshot that treats a customer of one month like one of six years. Retention teams
# ask two sharper questions:
#
# - **When?** Churn is time to an event, and most customers have not left *yet*
#   (censored). Survival models answer "the chance of leaving within 1, 3, 6 months,
#   given the customer is still here today", the question a renewal call needs.
# - **Worth how much?** In a shop nobody announces they left. BG/NBD with Gamma-Gamma
#   (Fader, Hardie and Lee) gives each customer's expected purchases, spend and chance of
#   still being a customer, against the RFM cells a CRM team uses.
#
# The number a retention team ranks by combines both: **value at risk**, the chance of
# leaving times what the customer is worth.

# %%
from pathlib import Path

from IPython.display import Image, display

import salesml

out = Path(OUTPUT_DIR)
config = salesml.load_experiment(SURVIVAL, OVERRIDES)
print(config.description)
salesml.run_experiment(config, output_dir=out / "survival", tracking_uri=TRACKING_URI, quiet=True)
run = salesml.load_run(out / "survival")
data, champion = run.summary.data, run.summary.champion
print(f"{data.rows:,} customers, {data.events:,} left; left out: {', '.join(data.guarded)}")
print(f"Champion {champion.name}, best rule {champion.baseline}")

# %% [markdown]
# ## Time to churn on IBM Telco: models against Kaplan-Meier rules
#
# The rules are what a retention team draws today: one churn curve for everyone, and
# one per contract type (and internet service). The models are Cox proportional hazards,
# with a baseline per contract type because proportional hazards do not hold across
# them, and a discrete-time hazard LightGBM. The integrated Brier score (lower is
# better) judges the whole curve; Uno's C how well customers are ranked by who leaves
# first; ROC-AUC and calibration are measured at 6, 12, 24 and 48 months. The landmark
# Brier score judges the exported score as it is used: at joining and at 6, 12, 24 and 48
# months, the customers still there get P(leave within 6 months | here), against whether
# they left. `TotalCharges` is left out: it is about tenure x monthly charges, so it would
# tell the model the answer.

# %%
table = run.metrics_frame()
columns = ["role", "ibs", "ibs_ci_low", "ibs_ci_high", "c_uno", "mean_auc", "landmark_brier"]
table[[c for c in columns if c in table]].round(4)

# %%
print(salesml.champion_verdict(run.summary))
print(run.metric("c_uno", against="km_contract"))
print(run.metric("landmark_brier", against="km_contract"))

# %%
display(Image(filename=str(run.figure("survival_curves"))))

# %% [markdown]
# ## Value at risk: whom to call first
#
# Each test customer's value lost to churn within their first 12 months is the monthly
# charge times the months lost. Ranked by predicted value at risk, how much of that loss
# does the top tenth of customers hold? A random tenth would hold 10 %.

# %%
table[["role", "value_top_decile", "value_top_decile_ci_low", "value_top_decile_ci_high"]].round(3)

# %% [markdown]
# ## Scoring today's customers, from the tenure they have
#
# The exported champion reads the customer file and, for customers still here, gives
# the chance of leaving within 1, 3 and 6 more months *given the months they have
# already stayed*, the months still to come within a year, the revenue at risk in that
# year and the reasons. Customers who already left are marked and not scored.

# %%
model = salesml.load_model(champion.model_uri, TRACKING_URI)
customers = salesml.read_frame(config.data.path)
scores = model.predict(customers)
active = scores[scores["status"] == "active"]
active.sort_values("value_at_risk", ascending=False).head(10).round(3)

# %% [markdown]
# By tenure band: the longer a customer has stayed, the lower the chance of leaving in
# the next three months (those who stay are mostly on long contracts).

# %%
bands = salesml.read_frame(config.data.path).loc[active.index, "tenure"] // 12 * 12
active.groupby(bands)[["p_leave_3", "expected_remaining", "value_at_risk"]].mean().round(3)

# %% [markdown]
# ## What a shop's customers are worth: CDNOW
#
# 2,357 customers of an online music shop; weeks 1-39 calibrate, weeks 40-78 are the
# holdout. BG/NBD's parameters reproduce the published ones (r 0.243, alpha 4.414,
# a 0.793, b 2.426).

# %%
value_config = salesml.load_experiment(VALUE, OVERRIDES)
salesml.run_experiment(
    value_config, output_dir=out / "value", tracking_uri=TRACKING_URI, quiet=True
)
value_run = salesml.load_run(out / "value")
value_table = value_run.metrics_frame()
value_table[["role", "purchases_mae", "purchases_corr", "total_purchases_error"]].round(3)

# %%
print(salesml.champion_verdict(value_run.summary))
print(value_run.metric("purchases_mae", against="rfm_segments"))
display(Image(filename=str(value_run.figure("by_frequency"))))

# %% [markdown]
# ## Value at risk in a shop: probably gone, and worth keeping
#
# The exported value model scores the whole log as of its last day: each customer's
# chance of still being a customer (P(alive)) and spend expected over the next 39
# weeks. Joined on the customer id, the chance of having left times the customer's
# spend so far ranks whom a win-back campaign should reach first.

# %%
value_model = salesml.load_model(value_run.summary.champion.model_uri, TRACKING_URI)
log = salesml.read_frame(value_config.data.path)
worth = value_model.predict(log)
worth["p_gone"] = 1 - worth["p_alive"]
worth["spend_so_far"] = worth["monetary"] * (worth["frequency"] + 1)
ranked = salesml.value_at_risk(worth, worth, "customer", "p_gone", "spend_so_far")
print(f"the top 10 % of customers hold {salesml.share_held(ranked, 0.1):.0%} of the value at risk")
ranked.head(10).round(3)
