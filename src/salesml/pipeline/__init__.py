"""Bookings from the pipeline: what a period will book, from the deals open at its start.

The ``bookings`` task backtests, at the start of each of the last months or
quarters, every rule a sales organisation forecasts with (the CRM's
stage-weighted pipeline, learned stage weights, the commit call, the run rate,
last year's) against a deal-by-deal model, on period bookings by segment. The
deals are read through :mod:`salesml.crm`, as-of snapshots and all.
"""
