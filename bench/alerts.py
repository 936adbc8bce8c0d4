"""How often stories break under `[alerts]`'s thresholds, on a day of French news.

gnews-fr's one-day stream (``shared/datasets/README.md``: 5,064 headlines of 10 January
2020 with their times and silver story ids) is read as the arrivals of each story's
sources (a story's identical headlines counted once). For each threshold (window,
minimum of new sources, ratio to the expected pace) are printed: the stories that break
at some point of the day, how many of those only look so because one site published a
batch of near-identical headlines (their first four words shared: weather bulletins for
sixty towns), and how many steady stories (eight headlines or more spread over six hours
or more) break. The baseline is a bare count (so many sources in the window, the pace
ignored), which is what "more than N articles in an hour" does.

The stream has no site names, so a headline stands for a source: the figures bound how
often a story breaks; with sources counted by outlet, and syndicated copies folded, fewer
do. The stream's times are when the headlines were collected, as veille's fetch times are.

Usage: ``python bench/alerts.py``
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from veille.alerts.detect import BreakingRule, first_surge, usual_rate

SHARED = Path(
    os.environ.get("VEILLE_SHARED", Path(__file__).resolve().parents[1].parent / "shared")
)
STREAM = SHARED / "datasets" / "clustering" / "gnews-fr" / "one_day_stream.csv"


def stories() -> tuple[dict[str, list[datetime]], dict[str, list[str]]]:
    times: dict[str, list[datetime]] = defaultdict(list)
    headlines: dict[str, list[str]] = defaultdict(list)
    seen = set()
    with STREAM.open(encoding="utf-8") as file:
        for row in csv.reader(file):
            headline, when, story = row[0].strip(), row[1], row[2]
            if (story, headline.lower()) in seen:
                continue
            seen.add((story, headline.lower()))
            times[story].append(datetime.fromisoformat(when))
            headlines[story].append(headline)
    return {k: sorted(v) for k, v in times.items()}, headlines


def batch(headlines: list[str]) -> bool:
    """One site's batch: every headline opens with the same four words."""
    return len({" ".join(h.lower().split()[:4]) for h in headlines}) == 1


def steady(moments: list[datetime]) -> bool:
    return len(moments) >= 8 and moments[-1] - moments[0] >= timedelta(hours=6)


def flagged(times, rule: BreakingRule, usual: float) -> list[str]:
    return [k for k, m in times.items() if first_surge(m, rule, usual) is not None]


def main() -> None:
    times, headlines = stories()
    start = min(m for ms in times.values() for m in ms)
    total = len(times)
    steady_ids = [k for k, m in times.items() if steady(m)]
    print(
        f"{sum(len(m) for m in times.values())} headlines in {total} stories; "
        f"{len(steady_ids)} steady ones"
    )
    print("window  min  ratio  | breaking  batches  steady  | share")
    for window in (30, 60, 120):
        for minimum in (2, 3, 5):
            for ratio in (0.0, 2.0, 3.0, 5.0):
                rule = BreakingRule(timedelta(minutes=window), minimum, ratio)
                usual = usual_rate(times.values(), start, rule)
                found = flagged(times, rule, usual)
                batches = sum(batch(headlines[k]) for k in found)
                steady_found = sum(k in found for k in steady_ids)
                name = "count only" if ratio == 0 else f"{ratio:>5.1f}"
                mark = "  <- default" if (window, minimum, ratio) == (60, 3, 3.0) else ""
                print(
                    f"{window:>4}m  {minimum:>3}  {name:>10} | {len(found):>8}  {batches:>7}  "
                    f"{steady_found:>6}  | {len(found) / total:.4f}{mark}"
                )
    print(f"usual pace over the day: {usual_rate(times.values(), start, BreakingRule()):.2f}/h")


if __name__ == "__main__":
    main()
