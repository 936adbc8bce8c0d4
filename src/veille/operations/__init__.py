"""What veille does when someone asks, written once for every door: the command line, the
web pages, the JSON API and the config sync of `veille run` call these functions and
nothing else, so the same request gives the same result whichever door it came through.

- `following`: sources (add, list, remove, OPML in and out) and watches (one way to build
  and check a watch, save, test, remove);
- `digests`: a watch's digest built, rendered, sent now or when its schedule says;
- `archive`: stories of a day, a story whole with its timeline, entities, search, errors;
- `reading`: what each reader has seen and starred, and what is new since their last visit;
- `accounts`: users, passwords, sessions and API tokens;
- `config`: the config file's sources and watches brought into the store.

Each raises `OperationError` (or a subclass) with a reason in words when it refuses; each
door shows the reason its own way (a message and an exit code, a page, a JSON problem).
"""

from __future__ import annotations


class OperationError(Exception):
    """A request refused; `reason` says why, in the reader's language."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(OperationError):
    status = 404


class Conflict(OperationError):
    """What the request would make exists already (a watch of that name)."""

    status = 409


class Invalid(OperationError):
    """Input that cannot be taken as it is; `problems` lists each fault."""

    status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Refused(OperationError):
    """Not allowed to this caller (an API token's scope, another user's token)."""

    status = 403


class SignInNeeded(OperationError):
    """Something only a user has (their tokens), asked by nobody in particular."""

    status = 401


__all__ = ["Conflict", "Invalid", "NotFound", "OperationError", "Refused", "SignInNeeded"]
