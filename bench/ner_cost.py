"""The floor two models set under end-to-end throughput, on OrangeSum test articles in CPU
milliseconds per article: spaCy's French NER (veille's pipeline side by side with the bare
model, tok2vec + ner, nothing else) and the default sentence encoder (title and start of
the text, in batches of 32, as grouping encodes). Prints the articles/s per core and the
ceiling on two cores if these were the only stages. CPU figures still rise on a busy
machine (shared caches): measure it quiet.

    python bench/ner_cost.py [--articles 600] [--model fr_core_news_sm]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VEILLE_SHARED", REPO.parent / "shared"))


def cost(nlp, texts: list[str]) -> float:
    """CPU milliseconds per text, after a warm-up."""
    list(nlp.pipe(texts[:20]))
    began = time.process_time()
    for _doc in nlp.pipe(texts, batch_size=64):
        pass
    return 1000 * (time.process_time() - began) / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--model", action="append", default=[], help="another model to time")
    options = parser.parse_args()
    import spacy

    from veille.encoder import article_text
    from veille.encoder import load as load_encoder
    from veille.enrich.entities import load
    from veille.enrich.stage import NER_CHARACTERS
    from veille.enrich.story import entity_text

    path = SHARED / "datasets" / "summarization" / "orangesum" / "test.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")][: options.articles]
    texts = [entity_text(r.get("title", ""), r["article"])[:NER_CHARACTERS] for r in rows]
    print(f"{len(texts)} OrangeSum test articles, {sum(map(len, texts)) / len(texts):.0f} chars")
    bare = ["parser", "lemmatizer", "senter", "attribute_ruler", "morphologizer"]
    runs = [("veille's pipeline", load("fr"))]
    for name in ["fr_core_news_md", *options.model]:
        runs.append((f"{name} tok2vec+ner", spacy.load(name, exclude=bare)))
    found = {label: cost(nlp, texts) for label, nlp in runs}
    encoder = load_encoder()
    if encoder is not None:
        encoded = [article_text(r.get("title", ""), r["article"]) for r in rows]
        encoder.encode(encoded[:32])
        began = time.process_time()
        for start in range(0, len(encoded), 32):
            encoder.encode(encoded[start : start + 32])
        found[f"encoder {encoder.name}"] = 1000 * (time.process_time() - began) / len(encoded)
    for label, ms in found.items():
        print(f"{label:>32}: {ms:6.1f} ms CPU/article, {1000 / ms:5.1f} articles/s per core")
    both = found["veille's pipeline"] + found.get(f"encoder {getattr(encoder, 'name', '')}", 0)
    print(f"veille's NER + encoder: {both:.1f} ms/article, at most {2000 / both:.1f}/s on 2 cores")


if __name__ == "__main__":
    main()
