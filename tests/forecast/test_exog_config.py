"""``data.exog``: a plain list (all known in advance) or ``{future, past, lags}``, checked at the edge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.errors import ConfigError, DataError


def _frame(daily_frame) -> pd.DataFrame:
    out = daily_frame(n=60)
    out["temp"] = np.random.default_rng(1).normal(20, 5, len(out)).round(1)
    return out


def test_a_plain_list_is_every_column_known_in_advance(make_task, daily_frame) -> None:
    task = make_task(_frame(daily_frame), data={"exog": ["promo", "temp"]})
    exog = task.config.data.exog
    assert exog.future == ["promo", "temp"] and exog.past == [] and exog.lags is None
    prep = task.prepare()
    assert prep.exog == ("promo", "temp") and prep.past == ()


def test_future_and_past_columns(make_task, daily_frame) -> None:
    exog = {"future": ["promo"], "past": ["temp"], "lags": [9, 7]}
    task = make_task(_frame(daily_frame), data={"exog": exog})
    prep = task.prepare()
    assert prep.exog == ("promo", "temp_lag7", "temp_lag9")
    assert prep.past == ("temp",) and prep.past_lags == (7, 9)
    assert prep.info.exog == ["promo", "temp_lag7", "temp_lag9"]


def test_past_lags_default_to_the_horizon(make_task, daily_frame) -> None:
    task = make_task(_frame(daily_frame), data={"exog": {"past": ["temp"]}})
    assert task.prepare().exog == ("temp_lag7",)  # horizon 7


@pytest.mark.parametrize(
    ("exog", "fragments"),
    [
        ({"future": ["promo"], "past": ["promo"]}, ["'promo'", "both future and past"]),
        ({"future": ["promo", "promo"]}, ["'promo'", "twice"]),
        ({"past": ["temp"], "lags": [3, 7]}, ["data.exog.lags 3", "horizon (7)"]),
        ({"future": ["promo"], "known": ["temp"]}, ["known"]),
    ],
)
def test_bad_exog_configs_are_refused(make_task, daily_frame, exog, fragments) -> None:
    with pytest.raises(ConfigError) as err:
        make_task(_frame(daily_frame), data={"exog": exog})
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("exog", [["weather"], {"future": ["promo"], "past": ["weather"]}])
def test_an_unknown_column_is_refused_naming_it(make_task, daily_frame, exog) -> None:
    task = make_task(_frame(daily_frame), data={"exog": exog})
    with pytest.raises(DataError, match="weather") as err:
        task.prepare()
    assert "\n" not in str(err.value)


def test_a_text_column_is_categorical(make_task, daily_frame) -> None:
    frame = _frame(daily_frame)
    frame["holiday"] = np.where(np.arange(len(frame)) % 9 == 0, "a", "0")
    frame.loc[5, "holiday"] = "b"
    task = make_task(frame, data={"exog": {"future": ["holiday"]}})
    df = task.prepare().df
    assert isinstance(df["holiday"].dtype, pd.CategoricalDtype)
    assert list(df["holiday"].cat.categories) == ["0", "a", "b"]


def test_a_text_target_is_still_refused(make_task, daily_frame) -> None:
    frame = _frame(daily_frame).astype({"sales": object})
    frame.loc[2, "sales"] = "lots"
    with pytest.raises(DataError, match="must be numeric"):
        make_task(frame).prepare()


def test_past_lags_use_only_earlier_values_of_the_same_series(make_task, daily_frame) -> None:
    frame = _frame(daily_frame)
    task = make_task(frame, data={"exog": {"past": ["temp"], "lags": [7, 8]}})
    df = task.prepare().df
    for uid, part in df.groupby("unique_id"):
        temp = part["temp"].to_numpy()
        assert np.isnan(part["temp_lag7"].to_numpy()[:7]).all()
        np.testing.assert_array_equal(part["temp_lag7"].to_numpy()[7:], temp[:-7], err_msg=uid)
        np.testing.assert_array_equal(part["temp_lag8"].to_numpy()[8:], temp[:-8], err_msg=uid)


def test_text_among_many_numbers_is_a_typo_not_a_category(make_task, daily_frame) -> None:
    frame = _frame(daily_frame).astype({"temp": object})
    frame.loc[4, "temp"] = "20,5"  # a decimal comma among 180 temperatures (data row 5)
    task = make_task(frame, data={"exog": {"past": ["temp"]}})
    with pytest.raises(DataError) as err:
        task.prepare()
    message = str(err.value)
    assert "'temp' must be numeric" in message and "'20,5' in data row 5" in message
    assert "not taken for a category" in message
