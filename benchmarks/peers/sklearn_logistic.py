"""The plain scikit-learn script a data scientist writes first: impute, one-hot, logistic.

Usage: ``python sklearn_logistic.py TRAIN.csv TEST.csv TARGET OUT.json``; writes the
wall time (read, fit, score) and the test ROC-AUC to ``OUT.json``.
"""

from __future__ import annotations

import json
import sys
import time


def main(train_path: str, test_path: str, target: str, out: str) -> None:
    started = time.perf_counter()
    import pandas as pd
    import sklearn
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train, test = pd.read_csv(train_path), pd.read_csv(test_path)
    positive = sorted(train[target].unique())[-1]
    X, y = train.drop(columns=[target]), train[target] == positive
    prep = make_column_transformer(
        (
            make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
            make_column_selector(dtype_include="number"),
        ),
        (
            make_pipeline(
                SimpleImputer(strategy="constant", fill_value="missing"),
                OneHotEncoder(handle_unknown="ignore", min_frequency=20),
            ),
            make_column_selector(dtype_exclude="number"),
        ),
    )
    model = make_pipeline(prep, LogisticRegression(max_iter=2000)).fit(X, y)
    prob = model.predict_proba(test.drop(columns=[target]))[:, 1]
    auc = roc_auc_score(test[target] == positive, prob)
    result = {
        "peer": f"scikit-learn {sklearn.__version__} logistic regression",
        "seconds": round(time.perf_counter() - started, 2),
        "roc_auc": float(auc),
    }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main(*sys.argv[1:5])
