"""Impossible timelines in CRM data: deals that close before they were created, stages out of order.

A CRM export holds such rows more often than one would think: a close date
typed by hand, an import that reset the created date, a stage skipped and
entered later. A negative duration would pull every median and the pipeline
velocity with it, silently. :func:`check_timeline` counts each kind with
examples; the funnel analysis leaves those durations out of cycle length and
time in stage (the rows still count for conversion and win rate), and the
funnel and bookings commands show one line per kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

EXAMPLES = 3


@dataclass(frozen=True)
class TimelineFlag:
    """Rows where ``later`` comes before ``earlier``: how many, and a few of them."""

    earlier: str
    later: str
    rows: int
    examples: tuple[str, ...]

    def line(
        self, consequence: str = "their durations are left out of cycle length and time in stage"
    ) -> str:
        """One sentence for the screen, ending with what is done about them."""
        noun = "row" if self.rows == 1 else "rows"
        return (
            f"{self.rows:,} {noun} with {self.later} before {self.earlier} "
            f"(e.g. {'; '.join(self.examples)}): impossible, so {consequence}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "earlier": self.earlier,
            "later": self.later,
            "rows": self.rows,
            "examples": list(self.examples),
        }


def date_only(values: pd.Series) -> bool:
    """Whether a timestamp column holds days only (every value at midnight), like a CloseDate."""
    stamps = values.dropna()
    return bool(len(stamps)) and bool((stamps == stamps.dt.normalize()).all())


def backwards(df: pd.DataFrame, earlier: str, later: str) -> pd.Series:
    """Rows where column ``later`` holds a time before column ``earlier``'s.

    When either column holds days only, the two are compared by day: a deal
    created at 14:57 and closed the same day (a date, read as midnight) is in order.
    """
    a, b = df[earlier], df[later]
    if date_only(a) or date_only(b):
        a, b = a.dt.normalize(), b.dt.normalize()
    return (b < a).fillna(False).astype(bool)


def check_timeline(df: pd.DataFrame, pairs: list[tuple[str, str]]) -> list[TimelineFlag]:
    """Every ``(earlier, later)`` pair of timestamp columns that some rows hold backwards.

    Parameters
    ----------
    df : DataFrame
        Parsed timestamps; its index numbers the data rows from 0.
    pairs : list of (str, str)
        Columns that must be in this order when both are set.
    """
    flags = []
    for earlier, later in dict.fromkeys(pairs):
        bad = backwards(df, earlier, later)
        if not bad.any():
            continue
        shown = df.loc[bad].head(EXAMPLES)
        examples = tuple(
            f"data row {int(i) + 1}: {later} {_day(r[later])}, {earlier} {_day(r[earlier])}"
            for i, r in shown.iterrows()
        )
        flags.append(TimelineFlag(earlier, later, int(bad.sum()), examples))
    return flags


def _day(value: pd.Timestamp) -> str:
    return value.strftime("%Y-%m-%d") if value.hour == value.minute == 0 else str(value)
