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
# Parameters (the test suite points OUTPUT_DIR at a temporary folder).
CONFIG = "../experiments/funnel/demo.yaml"
OLIST = "../experiments/funnel/olist.yaml"
OUTPUT_DIR = "../reports/notebook-funnel"
TRACKING_URI = None  # unused here: funnel analytics track nothing
OVERRIDES: list[str] = []

# %% [markdown]
# # Where deals stall, how long they take, what the pipeline is worth
#
# The first three notebooks ask whether a model beats the rules a sales team uses. Before
# that, a sales leader asks about the funnel itself: which stage loses the most deals, how
# long a deal takes from first touch to signature, what share of closed deals are won (the
# close rate, typically 15-30 % in B2B), whether answering a lead quickly matters, and what
# the open pipeline is worth per day. The customer lifecycle after the sale (retention,
# loyalty: when customers leave, what they are worth) is notebook 06.

# %%
from pathlib import Path

from IPython.display import Image, display

import salesml

out = Path(OUTPUT_DIR)
demo = salesml.run_funnel(CONFIG, out / "demo")
display(demo.report.headline)

# %% [markdown]
# ## Stage to stage: conversion, drop-off and time in stage

# %%
demo.report.stages.round(3)

# %% [markdown]
# ## By segment: enterprise deals are larger and slower
#
# Pipeline velocity (open deals x win rate x average won deal / average cycle, money per
# day) puts size and speed into one number per segment.

# %%
demo.report.by_segment[
    [
        "rows",
        "won",
        "win_rate",
        "cycle_days_median",
        "cycle_days_p90",
        "avg_deal",
        "velocity_per_day",
    ]
].astype(float).round(2)

# %% [markdown]
# ## Speed to lead: the first to respond wins
#
# Win rate among closed deals by how long the first response took.

# %%
demo.report.speed_to_lead.round(3)

# %% [markdown]
# ## The real Olist funnel: marketing-qualified lead to won deal
#
# 8,000 MQLs (first contact June 2017 to May 2018) joined with the deals Olist closed.
# An MQL not won within 180 days counts as lost. Early cohorts convert rarely because the
# closed-deals file starts in 2018: a censoring the data shows, not a change in lead
# quality. That is worth knowing before training a lead score on these months.

# %%
olist = salesml.run_funnel(OLIST, out / "olist")
olist.report.by_segment[["rows", "won", "win_rate", "cycle_days_median"]].astype(float).round(3)

# %%
display(Image(filename=str(olist.figure)))
