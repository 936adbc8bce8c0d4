"""The JSON API against its own OpenAPI document (schemathesis): every operation, reading
and writing; no 500, no answer outside the schema, whatever the parameters and bodies.
Nothing leaves the machine: reading a source's page and delivering a digest are stubbed."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from tests.conftest import seed_day_store
from veille.config import DeliverySettings, Settings, WebSettings
from veille.digest.deliver import DeliveryError
from veille.model import Watch
from veille.sources.web import PollError
from veille.web import create_app

# Operations whose input the schema cannot say all of: a query in the watch language, a
# watch's targets and schedule, a feed URL, an OPML file, a story id that exists. They
# answer 4xx with the reason for data the schema allows, which is right.
SEMANTIC = {
    "GET /api/v1/search",
    "GET /api/v1/search/stories",
    "GET /api/v1/preview",
    "POST /api/v1/watches",
    "PUT /api/v1/watches/{watch_id}",
    "POST /api/v1/sources",
    "POST /api/v1/sources/opml",
    "POST /api/v1/reading",
    "PUT /api/v1/stories/{story_id}/reading",
    "POST /api/v1/watches/{watch_id}/send",
    "GET /api/v1/tokens",
    "POST /api/v1/tokens",
    "DELETE /api/v1/tokens/{token_id}",
}


@pytest.fixture(scope="module")
def operations(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi")
    store, _, _ = seed_day_store(folder)
    store.save_watch(Watch("raid", "(X OR Musk) AND (perquisition OR perquisitionne)"))
    with pytest.MonkeyPatch.context() as patch:

        def offline(*args, **kwargs):
            raise PollError("offline in this test")

        def undelivered(*args, **kwargs):
            raise DeliveryError("not delivered in this test")

        patch.setattr("veille.operations.following._identify", offline)
        patch.setattr("veille.digest.deliver._post", undelivered)
        patch.setattr("veille.digest.deliver._smtp_send", undelivered)
        settings = Settings(
            delivery=DeliverySettings(folder=folder / "digests"),
            # schemathesis calls the app by the name ASGI test clients use.
            web=WebSettings(allowed_hosts=("testserver",)),
        )
        schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(store, settings))
        found = [result.ok() for result in schema.get_all_operations()]
        yield {op.label: op for op in found}
    store.close()


LABELS = [
    "GET /api/v1/stories",
    "GET /api/v1/stories/{story_id}",
    "GET /api/v1/stories/{story_id}/timeline",
    "GET /api/v1/stories/{story_id}/reading",
    "PUT /api/v1/stories/{story_id}/reading",
    "POST /api/v1/reading",
    "GET /api/v1/reading/starred",
    "GET /api/v1/search",
    "GET /api/v1/search/stories",
    "GET /api/v1/entities",
    "GET /api/v1/entities/{entity_id}",
    "GET /api/v1/sources",
    "POST /api/v1/sources",
    "GET /api/v1/sources/{source_id}",
    "DELETE /api/v1/sources/{source_id}",
    "GET /api/v1/sources/opml",
    "POST /api/v1/sources/opml",
    "GET /api/v1/watches",
    "POST /api/v1/watches",
    "GET /api/v1/watches/{watch_id}",
    "PUT /api/v1/watches/{watch_id}",
    "DELETE /api/v1/watches/{watch_id}",
    "GET /api/v1/watches/{watch_id}/deliveries",
    "GET /api/v1/watches/{watch_id}/alerts",
    "GET /api/v1/watches/{watch_id}/alerts/feed",
    "GET /api/v1/watches/{watch_id}/digests/{day}",
    "POST /api/v1/watches/{watch_id}/send",
    "GET /api/v1/preview",
    "GET /api/v1/errors",
    "GET /api/v1/me",
    "GET /api/v1/tokens",
    "POST /api/v1/tokens",
    "DELETE /api/v1/tokens/{token_id}",
]


def test_the_api_documents_every_operation(operations):
    assert set(LABELS) == set(operations)


@pytest.mark.parametrize("label", LABELS)
def test_the_api_keeps_to_its_schema(operations, label):
    operation = operations[label]
    excluded = [positive_data_acceptance] if label in SEMANTIC else []

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data):
        case = data.draw(operation.as_strategy())
        case.call_and_validate(excluded_checks=excluded)

    check()
