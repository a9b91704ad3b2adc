"""Sales-funnel and customer-lifecycle analytics (``salesml funnel``).

- :mod:`salesml.funnel.analysis`: stage conversion, time in stage, cycle
  length, win rate, speed to lead, pipeline velocity; retention curves;
- :mod:`salesml.funnel.source`: a funnel YAML config or a CRM export read
  as a :class:`~salesml.funnel.analysis.FunnelSpec` and its table;
- :mod:`salesml.funnel.plots`: the figure.
"""
