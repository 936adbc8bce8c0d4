"""An analyst's reading state: stories seen or not, starred or not, per reader, and what
changed since their last visit. The reader is the user logged in, or "" on loopback where
nobody logs in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from veille.i18n import _
from veille.model import Story
from veille.operations import NotFound
from veille.store import Store
from veille.store.reading import ReadState

LOCAL_READER = ""


@dataclass(frozen=True)
class Visit:
    previous: datetime | None  # when the reader's last visit ended (None: the first)
    new: frozenset[int]  # of the stories asked about, those changed since then


def visit(store: Store, reader: str, story_ids: Iterable[int]) -> Visit:
    """Record the reader's visit; which of the stories changed since their last one."""
    ids = list(story_ids)
    previous = store.visit(reader)
    new = store.changed_since(ids, previous) if previous is not None else set()
    return Visit(previous, frozenset(new))


def read_states(store: Store, reader: str, story_ids: Iterable[int]) -> dict[int, ReadState]:
    return store.read_states(reader, story_ids)


def mark(
    store: Store,
    reader: str,
    story_ids: Iterable[int],
    seen: bool | None = None,
    starred: bool | None = None,
) -> dict[int, ReadState]:
    """Mark stories seen or unseen, starred or not; returns their state. NotFound for a
    story that does not exist."""
    ids = list(dict.fromkeys(story_ids))
    for story_id in ids:
        if store.story(story_id) is None:
            raise NotFound(_("No story {id}.", id=story_id))
    store.mark_read(reader, ids, seen=seen, starred=starred)
    return store.read_states(reader, ids)


def starred_stories(store: Store, reader: str) -> list[Story]:
    """The reader's starred stories, the latest starred first."""
    return [s for i in store.starred(reader) if (s := store.story(i)) is not None]
