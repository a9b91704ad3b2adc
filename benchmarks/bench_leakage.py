"""Time the leakage guard (``find_leaks``) on the training rows it sees in real runs (best of 5).

Run with ``python benchmarks/bench_leakage.py``. This is a script, not a test:
it prints, per table, rows, columns checked, the flags found and the best
wall-clock seconds. The guard runs before every classification experiment, so
the target is well under a second at 100,000 rows.

Tables: IBM Telco (7,043 rows), the Olist MQLs with the closed-deal columns
joined on (the real leak trap) and synthetic leads at 20,000 and 100,000 rows
with ``last_stage_reached`` kept (the synthetic leak).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from salesml.classify.leakage import find_leaks
from salesml.io.data import binary_target, load_table
from salesml.io.schema import infer_schema
from salesml.synthetic import generate_leads

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 1.0


def tables() -> dict[str, tuple[pd.DataFrame, str, str | None, dict[str, str]]]:
    """``{name: (frame, target, label_time, kinds)}`` with ids and free text removed."""
    out = {}
    telco = load_table(ROOT / "data/external/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv")
    frame = telco.frame.drop(columns=["customerID"])
    frame["Churn"] = binary_target(frame["Churn"], "Yes", "telco")
    out["telco"] = (frame, "Churn", None, telco.schema.to_dict())
    folder = ROOT / "data/external/olist_funnel"
    mqls = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    joined = mqls.merge(deals, on="mql_id", how="left").assign(
        closed=lambda f: f["mql_id"].isin(deals["mql_id"]).astype(int)
    )
    joined, schema = infer_schema(joined.drop(columns=["mql_id", "seller_id"]))
    out["olist+deals"] = (joined, "closed", "first_contact_date", schema.to_dict())
    for rows in (20_000, 100_000):
        leads, schema = infer_schema(generate_leads(rows, seed=7))
        leads = leads.drop(columns=["lead_id", "job_title"])
        out[f"leads {rows:,}"] = (leads, "converted", "created_at", schema.to_dict())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs per table.")
    args = parser.parse_args(argv)
    print(f"{'table':<14} {'rows':>8} {'cols':>5} {'best s':>7}  flagged columns")
    slowest = 0.0
    for name, (frame, target, label_time, kinds) in tables().items():
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            flags = find_leaks(frame, target, label_time, kinds)
            best = min(best, time.perf_counter() - start)
        slowest = max(slowest, best)
        flagged = sorted({f.column for f in flags})
        checked = frame.shape[1] - 1 - (label_time is not None)
        print(f"{name:<14} {len(frame):>8,} {checked:>5} {best:>7.3f}  {', '.join(flagged) or '-'}")
    verdict = "within" if slowest < TARGET_SECONDS else "OVER"
    print(f"slowest {slowest:.3f} s: {verdict} the {TARGET_SECONDS:.0f} s target")
    return 0 if slowest < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
