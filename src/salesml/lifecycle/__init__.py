"""The customer lifecycle: how many more purchases a customer will make and what they are worth.

So far: transaction logs summarised per customer (:mod:`salesml.lifecycle.summary`),
the BG/NBD repeat-purchase model (:mod:`salesml.lifecycle.bgnbd`) and the Gamma-Gamma
spend model (:mod:`salesml.lifecycle.spend`), both pinned to the published CDNOW
parameters.
"""
