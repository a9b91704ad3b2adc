"""The typed model card: what an exported model says about itself, round-tripped."""

from __future__ import annotations

import dataclasses

import pytest

from salesml.experiment.card import ModelCard


def test_a_card_round_trips_through_mlflow_metadata():
    card = ModelCard(
        kind="classifier",
        task="churn",
        candidate="lightgbm",
        metrics={"roc_auc": 0.84, "roc_auc_ci": [0.82, 0.86]},
        id_columns=["customerID"],
        facts={"tier_cuts": [80, 60, 40], "train_window": None},
    )
    meta = card.to_metadata()
    assert meta["salesml"]["tier_cuts"] == [80, 60, 40]  # facts are stored flat
    assert "facts" not in meta["salesml"]
    assert ModelCard.from_metadata(meta) == card


def test_a_foreign_model_has_an_empty_card():
    card = ModelCard.from_metadata(None)
    assert card.kind is None and card.facts == {} and card.id_columns == []
    assert ModelCard.from_metadata({"other": {"x": 1}}).kind is None


def test_values_become_plain_json():
    from pathlib import Path

    meta = ModelCard(kind="forecast", data={"path": Path("/x/y.csv")}).to_metadata()
    assert meta["salesml"]["data"]["path"] == "/x/y.csv"


def test_the_prepared_rows_of_a_classification_run_are_frozen(write_yaml, leads_small):
    from salesml.classify.task import ClassificationTask
    from salesml.experiment.config import load_experiment

    leads_small.to_csv(write_yaml({}, "x.yaml").parent / "leads.csv", index=False)
    path = write_yaml(
        {
            "name": "frozen",
            "task": "lead_conversion",
            "data": {"path": "leads.csv", "target": "converted", "drop": ["last_stage_reached"]},
            "baselines": ["prior"],
        }
    )
    task = ClassificationTask(load_experiment(path))
    with pytest.raises(RuntimeError, match="prepare"):
        task.datasets()
    info = task.prepare().info
    assert task.data.info is info and len(task.data.y_test) == info.test_rows
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.data.X_train = None  # type: ignore[misc]
