"""The customer lifecycle: how many more purchases a customer will make and what they are worth.

The ``customer_value`` task reads a shop's transaction log (cleaned by counted rules,
:mod:`salesml.lifecycle.transactions`), summarises each customer over a calibration
period (:mod:`salesml.lifecycle.summary`) and scores, on the holdout, the rules CRM
teams use (each customer's past rate, RFM cells) against BG/NBD with Gamma-Gamma
(:mod:`salesml.lifecycle.bgnbd`, :mod:`salesml.lifecycle.spend`, pinned to the
published CDNOW parameters) and a LightGBM on RFM features. The exported models value
every customer of a log (:mod:`salesml.lifecycle.export`).
"""
