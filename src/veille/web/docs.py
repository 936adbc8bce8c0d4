"""The API reference at /docs: Swagger UI served from veille's own static files
(`static/swagger/`, swagger-ui-dist, Apache-2.0) with no inline script, under the same
Content-Security-Policy as the pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from veille.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    return render(request, "docs.html", "/docs")
