"""The learned part of story clustering: when does an article join a story?

An article is scored against each of its candidate stories by a linear model over
similarity features, and joins the best one when the score is at least 0.

How these numbers were obtained (re-run with `python bench/clustering.py --learn`):
gnews-fr dev split (86 stories, 408 headlines) fed as 10 shuffled streams, each mixed with
600 headlines of `one_day_stream.csv` (another period, so never of a dev story; they bring
the stream to the size of the test split, whose best threshold is higher than plain dev's,
and count as wrong members when a dev headline joins them). Logistic regression on
(headline, candidate story) pairs from the clusterer's own streams, then the threshold and
the vector weights (`vectors.Weighting`) by BCubed F1 over the dev headlines.

Findings (dev with distractors, BCubed F1, 10 seeds, sd about 0.008):
- cosine to the centroid alone, threshold 0.25: 0.845 (plain baseline, words only: 0.816);
- inside the vector, names counted 1.5 times (+0.009) and 4-letter pieces of headline stems
  (+0.007) help; quoted numbers do not (+-0.001), so `number_weight` is 0;
- a lone article joining a story that has since grown close to it ("late join", +0.006);
- next to the cosine, no feature helped when combined linearly (logistic regression on
  pairs, each with its best threshold): margin over the runner-up, shared names, rarest
  shared word, shared numbers and story size each lost F1; the entity boosting that lowered
  the README's F1 does the same here. A 150-tree gradient-boosting model over all of them
  gained about +0.01 on dev, too little for a model that size, so the cosine stays alone.
Test (924 headlines, 5 seeds): 0.792 +- 0.008; the baseline 0.774 (README: 0.771).
"""

from __future__ import annotations

# Features the clusterer can compute for an (article, story) pair; see StoryClusterer.features.
ALL_FEATURES = ("cos", "margin", "names", "rare", "numbers", "size")

# Headline-only articles (gnews-fr dev): score = BIAS + sum(weight * feature).
FEATURES: tuple[str, ...] = ("cos",)
WEIGHTS: tuple[float, ...] = (1.0,)
BIAS = -0.25

# Articles with a body: their vectors are longer and cosines lower for one event. Measured
# on SemEval-2022 task 8 dev pairs (monolingual de/en/es/fr/it, "same story" = Overall <= 2,
# title weight 2, 100 terms): article-to-article cosine is best split at 0.125-0.175 (AUC
# 0.89; fr-fr 0.94); a centroid is closer to each member than members are to each other,
# hence a centroid threshold at the top of that range.
TEXT_THRESHOLD = 0.175
