"""The JSON-LD objects a page declares, in document order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from lxml import etree


def objects(tree: etree._Element) -> Iterator[dict[str, Any]]:
    """Every object of every `application/ld+json` script, nested ones included; a script
    that is not valid JSON is skipped."""
    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except (json.JSONDecodeError, ValueError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                yield item
                stack.extend(reversed([v for v in item.values() if isinstance(v, dict | list)]))


def values(tree: etree._Element, key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(value, object) for each object giving `key` a non-empty string."""
    for item in objects(tree):
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            yield value, item
