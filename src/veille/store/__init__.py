"""The store: SQLite by default (WAL, one file), any SQLAlchemy URL such as PostgreSQL.

One module per table family, as plain methods over SQLAlchemy Core: `sources`, `pages`,
`articles`, `stories` (and the grouping stage's writes), `grouping` (its queue, state and
checkpoints), `understanding` (mentions, entities, briefs), `watches` (and deliveries),
`templates` (each site's page template), `users`, `sessions` (and API tokens), `reading`
(seen and starred), `alerts`, `log`. `base` holds transactions and the one-writer lock.

    with Store(url) as store:
        with store.transaction():   # every call inside commits together, or not at all
            ...
"""

from __future__ import annotations

from veille.store.alerts import AlertRecord, AlertStore
from veille.store.articles import ArticleStore, Outcome
from veille.store.base import StoreBase
from veille.store.grouping import GroupingStore
from veille.store.log import LogEntry, LogStore
from veille.store.pages import PageStore
from veille.store.reading import ReadingStore
from veille.store.sessions import SessionStore
from veille.store.sources import SourceStore
from veille.store.stories import Grouping, StoryStore, StoryView
from veille.store.templates import TemplateStore
from veille.store.understanding import UnderstandingStore
from veille.store.users import UserStore
from veille.store.watches import WatchStore

__all__ = ["AlertRecord", "Grouping", "LogEntry", "Outcome", "Store", "StoryView"]


class Store(
    SourceStore,
    PageStore,
    ArticleStore,
    StoryStore,
    GroupingStore,
    UnderstandingStore,
    WatchStore,
    UserStore,
    SessionStore,
    ReadingStore,
    AlertStore,
    LogStore,
    TemplateStore,
    StoreBase,
):
    """Every table family's methods over one engine."""

    def __enter__(self) -> Store:
        return self
