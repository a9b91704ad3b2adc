"""The customer lifecycle: how many more purchases a customer will make and what they are worth.

So far: transaction logs summarised per customer (:mod:`salesml.lifecycle.summary`) and
the BG/NBD repeat-purchase model (:mod:`salesml.lifecycle.bgnbd`), pinned to the
published CDNOW parameters.
"""
