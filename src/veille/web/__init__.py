"""The web side of veille: the JSON API (`/api/v1`) over a store."""

from __future__ import annotations

from fastapi import FastAPI

from veille.store import Store
from veille.web.api import router


def create_app(store: Store) -> FastAPI:
    app = FastAPI(
        title="veille",
        summary="Veille médiatique : une entrée par sujet. / News monitoring: one entry per story.",
        version="1",
    )
    app.state.store = store
    app.include_router(router)
    return app
