"""Entities benchmark: merged people and organisations of the seed-day fixture vs its truth.

Each article of ``fixtures/seed-day`` is extracted (``extract_html``), its title and text go
through ``veille.enrich.entities.find_mentions``, and ``merge`` joins the mentions, once per
truth story (the articles of one story) and once over all articles together (the
cross-story case). The merged PER and ORG lists are compared with ``truth.json``'s
``entities.people`` and ``entities.orgs``:

* a predicted entity is a true positive when its name or any alias equals, folded (case,
  accents, punctuation), the name or an alias of a truth entity of the same kind;
* a second predicted entity matching a truth entity already matched is a duplicate ("one
  person under two spellings"): a false positive, listed as such;
* precision = true positives / predicted entities; recall = truth entities matched / truth
  entities. Per story, the truth is the entities whose ``stories`` include that story, and
  the figures are summed over stories (micro average).

The truth lists are not exhaustive (media outlets, event names and acronyms a reader
would not track are absent), so precision is a floor. Timing: model load, then mentions
per second over the 24 pages, then merging.

``--own dev|test``: the project's own set instead (``bench/data/entities-fr.jsonl``: 128
short French news paragraphs written for this bench, not taken from any fixture or corpus,
split 64 dev / 64 test (ids 1-44 half and half; from id 45, odd ids dev and even ids
test, a rule fixed before anything was measured on them; ``--ids 89-128`` reports one
batch), with their gold people, organisations and places, page chrome and capitalised
common words among them). Each paragraph's mentions are merged alone; a predicted entity
is right when one of its spellings equals a gold name of its kind (folded, articles and
titles dropped). Precision and recall per kind, and the errors. Rules are tuned on dev;
test is reported.

Data are read from ``<repo>/../shared/fixtures/seed-day`` (``$VEILLE_SHARED`` or
``--shared`` override the ``shared`` folder). Usage: ``python bench/entities.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from veille.enrich.entities import Entity, find_mentions, load, merge, name_key
from veille.extract import extract_html
from veille.text import fold

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VEILLE_SHARED", REPO_ROOT.parent / "shared"))
KINDS = {"PER": "people", "ORG": "orgs"}


@dataclass
class Score:
    predicted: int = 0
    true_positives: int = 0
    truth: int = 0
    found: int = 0
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.predicted += other.predicted
        self.true_positives += other.true_positives
        self.truth += other.truth
        self.found += other.found
        self.misses += other.misses
        self.false_positives += other.false_positives
        self.duplicates += other.duplicates

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.truth if self.truth else 1.0


def names(entry: dict) -> set[str]:
    return {fold(n) for n in [entry["name"], *entry.get("aliases", [])]} - {""}


def score(predicted: list[Entity], truth: list[dict], other_kind: list[dict]) -> Score:
    """Predicted entities of one kind against the truth entities of that kind."""
    result = Score(predicted=len(predicted), truth=len(truth))
    matched: dict[int, str] = {}
    for entity in predicted:
        spellings = {fold(a) for a in [entity.name, *entity.aliases]}
        hits = [n for n, entry in enumerate(truth) if spellings & names(entry)]
        shown = f"{entity.name} {entity.aliases[1:]}" if len(entity.aliases) > 1 else entity.name
        if not hits:
            wrong_kind = any(spellings & names(entry) for entry in other_kind)
            result.false_positives.append(shown + (" (other kind in truth)" if wrong_kind else ""))
            continue
        fresh = [n for n in hits if n not in matched]
        if not fresh:
            first = matched[hits[0]]
            result.duplicates.append(f"{shown} duplicates {first} ({truth[hits[0]]['name']})")
            continue
        matched[fresh[0]] = entity.name
        result.true_positives += 1
    result.found = len(matched)
    result.misses = [entry["name"] for n, entry in enumerate(truth) if n not in matched]
    return result


def evaluate(entities: list[Entity], people: list[dict], orgs: list[dict]) -> dict[str, Score]:
    by_label = defaultdict(list)
    for entity in entities:
        by_label[entity.label].append(entity)
    return {
        "PER": score(by_label["PER"], people, orgs),
        "ORG": score(by_label["ORG"], orgs, people),
    }


def report(title: str, scores: dict[str, Score]) -> None:
    print(f"\n## {title}")
    for label, kind in KINDS.items():
        s = scores[label]
        print(
            f"{kind:7} precision {s.precision:6.1%} ({s.true_positives}/{s.predicted})   "
            f"recall {s.recall:6.1%} ({s.found}/{s.truth})"
        )
        if s.misses:
            print(f"  misses: {', '.join(s.misses)}")
        if s.duplicates:
            print(f"  duplicates (false positives): {'; '.join(s.duplicates)}")
        if s.false_positives:
            print(f"  false positives: {', '.join(s.false_positives)}")


OWN = REPO_ROOT / "bench" / "data" / "entities-fr.jsonl"


def own(split: str, ids: tuple[int, int] | None = None) -> None:
    """P/R per kind on the project's own paragraphs of `split` (of ids `first-last`)."""
    rows = [json.loads(line) for line in OWN.read_text("utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["split"] == split]
    if ids:
        rows = [r for r in rows if ids[0] <= r["id"] <= ids[1]]
    found, _ = find_mentions({r["id"]: (r["text"], "fr") for r in rows})
    totals = {k: [0, 0, 0] for k in ("PER", "ORG", "LOC")}  # predicted, right, gold
    errors: list[str] = []
    for row in rows:
        predicted = merge({row["id"]: found[row["id"]]})
        for kind in totals:
            gold = {name_key(n) for n in row[kind]}
            hit: set[str] = set()
            for entity in (e for e in predicted if e.label == kind):
                keys = {name_key(a) for a in entity.aliases} & gold
                totals[kind][0] += 1
                if keys and not keys <= hit:
                    totals[kind][1] += 1
                    hit |= keys
                else:
                    errors.append(f"  #{row['id']} false {kind}: {entity.name}")
            totals[kind][2] += len(gold)
            errors += [f"  #{row['id']} missed {kind}: {n}" for n in sorted(gold - hit)]
    shown = f", ids {ids[0]}-{ids[1]}" if ids else ""
    print(f"# Own entity set, {split} split{shown}: {len(rows)} paragraphs")
    for kind, (predicted_n, right, gold_n) in totals.items():
        p = right / predicted_n if predicted_n else 1.0
        r = right / gold_n if gold_n else 1.0
        print(f"{kind}: P {p:.3f} ({right}/{predicted_n})  R {r:.3f} ({right}/{gold_n})")
    print("\n".join(errors))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--own", choices=("dev", "test"), help="the project's own set")
    parser.add_argument(
        "--ids", help="with --own: only paragraphs whose id is in FIRST-LAST (one batch)"
    )
    args = parser.parse_args(argv)
    if args.own:
        if args.ids and not re.fullmatch(r"\d+-\d+", args.ids):
            parser.error(f"--ids {args.ids!r}: expected FIRST-LAST, e.g. 89-128")
        ids = tuple(int(n) for n in args.ids.split("-")) if args.ids else None
        own(args.own, ids)  # type: ignore[arg-type]
        return 0
    base = args.shared / "fixtures" / "seed-day"
    if not (base / "truth.json").exists():
        sys.exit(
            f"bench/entities.py: {base / 'truth.json'} is absent. The bench reads the project's "
            "shared data beside the repository (set VEILLE_SHARED to the shared folder)."
        )
    truth = json.loads((base / "truth.json").read_text("utf-8"))
    people, orgs = truth["entities"]["people"], truth["entities"]["orgs"]

    texts: dict[int, tuple[str, str | None]] = {}
    story_of: dict[int, str] = {}
    for n, article in enumerate(truth["articles"]):
        extracted = extract_html((base / article["page"]).read_bytes(), article["url"])
        parts = [extracted.title, extracted.text] if extracted else []
        texts[n] = ("\n".join(p for p in parts if p), article.get("language") or "fr")
        story_of[n] = article["story"]

    started = time.perf_counter()
    load("fr")
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    found, skipped = find_mentions(texts)
    tagged = time.perf_counter() - started
    started = time.perf_counter()
    together = merge(found)
    merged = time.perf_counter() - started
    chars = sum(len(t) for t, _ in texts.values())
    count = sum(len(m) for m in found.values())
    print("# Entities on seed-day")
    print(
        f"model load {loaded:.1f} s; mentions: {len(texts)} pages, {chars:,} characters, "
        f"{count} mentions in {tagged:.2f} s ({len(texts) / tagged:.1f} pages/s, "
        f"{chars / tagged:,.0f} chars/s); merge of all in {merged * 1000:.0f} ms"
    )
    for n, reason in skipped.items():
        print(f"skipped page {n}: {reason}")

    stories: dict[str, dict[int, list]] = defaultdict(dict)
    for n, mentions in found.items():
        stories[story_of[n]][n] = mentions
    per_story = {"PER": Score(), "ORG": Score()}
    for story, by_article in sorted(stories.items()):
        scores = evaluate(
            merge(by_article),
            [p for p in people if story in p["stories"]],
            [o for o in orgs if story in o["stories"]],
        )
        for label in KINDS:
            # Name misses and false positives by story, so the summed lists stay readable.
            scores[label].misses = [f"{m} [{story}]" for m in scores[label].misses]
            per_story[label].add(scores[label])
    report("Per story (merged within each story, summed)", per_story)
    report("All articles together (merged across stories)", evaluate(together, people, orgs))

    largest = max(stories, key=lambda s: len(stories[s]))
    print(f"\n## Entities of the largest story, {largest} ({len(stories[largest])} articles)")
    for entity in merge(stories[largest]):
        if entity.label in KINDS:
            others = f"  aliases: {', '.join(entity.aliases[1:])}" if entity.aliases[1:] else ""
            print(
                f"{entity.label} {entity.name}: {entity.mentions} mentions, "
                f"{len(entity.article_ids)} articles{others}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
