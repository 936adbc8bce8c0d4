"""Story clustering: articles grouped into stories as they arrive, day after day.

clusterer = StoryClusterer()            # or StoryClusterer.from_bytes(saved)
story_id = clusterer.add(ClusterDoc(id=article.id, title=..., text=..., published=...))
clusterer.merges                        # [(absorbed, kept)]: stories that became one
clusterer.summary(story_id)             # title, representative, first/last seen, sites
clusterer.related(story_id)             # [(story id, similarity)]: same subject
saved = clusterer.state_to_bytes()      # to continue tomorrow
"""

from veille.cluster.online import ClusterSettings, StoryClusterer, StorySummary
from veille.cluster.vectors import ClusterDoc, Weighting

__all__ = ["ClusterDoc", "ClusterSettings", "StoryClusterer", "StorySummary", "Weighting"]
