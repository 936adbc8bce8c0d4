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

# Headline-only articles (gnews-fr dev): score = BIAS + sum(weight * feature), "dense"
# being the cosine of the headline's encoder vector (`veille.encoder`, USE multilingual) to
# the story's mean one. Dev with 600 distractors, 3 seeds, BCubed F1 (sd about 0.01): cosine
# alone (SPARSE_BIAS) 0.840; + 0.25 dense 0.848 (bias -0.35); + 0.5 dense 0.857 (-0.475);
# + 1.0 dense 0.858 / 0.859 / 0.853 (-0.70 / -0.75 / -0.80).
FEATURES: tuple[str, ...] = ("cos", "dense")
WEIGHTS: tuple[float, ...] = (1.0, 1.0)
BIAS = -0.75
# Without an encoder (or a headline without a dense vector): the cosine alone.
SPARSE_BIAS = -0.25

# Articles with a body: their vectors are longer and cosines lower for one event. Measured
# on SemEval-2022 task 8 dev pairs (monolingual de/en/es/fr/it, "same story" = Overall <= 2,
# title weight 2, 100 terms): article-to-article cosine is best split at 0.125-0.175 (AUC
# 0.89; fr-fr 0.94); a centroid is closer to each member than members are to each other,
# hence a centroid threshold at the top of that range.
TEXT_THRESHOLD = 0.175

# An article in a language none of a story's articles is in: its dense vector
# (`veille.encoder`, USE multilingual) against the story's. SemEval-2022 task 8 dev,
# cross-language pairs (383, 134 "same story"), article-to-article cosine: 0.55 P 0.81 /
# R 0.68; 0.60 P 0.88 / R 0.60; 0.65 P 0.98 / R 0.41; 0.70 P 1.00 / R 0.23. Joining
# the wrong story costs more than a second story: the precise end, and a centroid is
# closer to each member than members are to each other.
CROSS_THRESHOLD = 0.65

# An article with a body and a story in its language: besides the sparse cosine
# (TEXT_THRESHOLD), their dense vectors must be this close. SemEval-2022 task 8 dev,
# monolingual pairs (900, 340 "same story"), article to article: sparse >= 0.175 alone
# P 0.69 / R 0.85 / F1 0.763; with dense >= 0.5 P 0.78 / R 0.78 / F1 0.777; >= 0.55
# P 0.83 / R 0.73 / F1 0.776; >= 0.6 P 0.85 / R 0.65 / F1 0.740. Names shared by two
# events of the same people (a raid, then an appointment) lift the sparse cosine alone.
DENSE_FLOOR = 0.55
