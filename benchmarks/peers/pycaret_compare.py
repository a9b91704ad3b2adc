"""PyCaret 3.3 as a user would run it: ``setup`` + ``compare_models`` on salesml's split.

Runs in its own virtual environment (``benchmarks/.venvs/pycaret``; PyCaret pins an
older scikit-learn). Usage::

    python pycaret_compare.py TRAIN.csv TEST.csv TARGET [N_JOBS] OUT.json

``N_JOBS`` is passed to ``setup`` (PyCaret's default, -1, when left out): the number of
cross-validation folds fitted at once, each model inside with the threads its caller's
environment allows (``OMP_NUM_THREADS``).

Prints nothing but PyCaret's own output; writes wall times, the best model's name and
its test ROC-AUC, the number of models compared and the three slowest (PyCaret's mean
seconds per fold) to ``OUT.json``.
"""

from __future__ import annotations

import json
import sys
import time


def main(train_path: str, test_path: str, target: str, n_jobs: str, out: str) -> None:
    import pandas as pd
    import pycaret
    from pycaret.classification import compare_models, predict_model, pull, setup
    from sklearn.metrics import roc_auc_score

    train, test = pd.read_csv(train_path), pd.read_csv(test_path)
    started = time.perf_counter()
    setup(
        data=train,
        test_data=test,
        target=target,
        session_id=0,
        verbose=False,
        html=False,
        index=False,
        n_jobs=int(n_jobs),
    )
    set_up = time.perf_counter() - started
    best = compare_models(sort="AUC", verbose=False)
    compared = time.perf_counter() - started
    grid = pull()  # one row per model: its CV means and "TT (Sec)", its mean fit time
    slowest = grid.sort_values("TT (Sec)", ascending=False).head(3)
    scored = predict_model(best, data=test.drop(columns=[target]), raw_score=True, verbose=False)
    positive = sorted(train[target].unique())[-1]
    prob = scored[f"prediction_score_{positive}"]
    result = {
        "peer": f"PyCaret {pycaret.__version__}",
        "n_jobs": int(n_jobs),
        "setup_seconds": round(set_up, 2),
        "seconds": round(compared, 2),
        "best": type(best).__name__,
        "models": len(grid),
        "slowest": {str(r["Model"]): float(r["TT (Sec)"]) for _, r in slowest.iterrows()},
        "roc_auc": float(roc_auc_score(test[target] == positive, prob)),
    }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(*args[:3], *(args[3:4] if len(args) == 5 else ["-1"]), args[-1])
