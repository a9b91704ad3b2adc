"""The ``churn_survival`` task: when a customer will leave, with censoring, against Kaplan-Meier rules.

- :mod:`.config`: the experiment's YAML, validated once;
- :mod:`.data`: the customers read, durations and events checked, features guarded, split;
- :mod:`.curves`: Kaplan-Meier curves and the survival-curve arithmetic every candidate shares;
- :mod:`.candidates`: the rules (Kaplan-Meier overall and by segment) and the models
  (Cox proportional hazards, a discrete-time hazard LightGBM) as estimators;
- :mod:`.metrics`: concordance (Harrell's, Uno's), integrated Brier score,
  time-dependent ROC-AUC and calibration, as statistics of bootstrap weights;
- :mod:`.view`, :mod:`.task`, :mod:`.export`, :mod:`.registry`.
"""
