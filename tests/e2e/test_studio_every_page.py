"""Every Studio page, filled with a little of everything, at desktop and phone width: axe-core
finds nothing (WCAG 2.1 A/AA, contrast of secondary text included, best practices), the page
does not scroll sideways at 390 px, and nothing goes wrong in the console."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .browser import Studio
from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream


class Filled:
    """One workspace with a model, a deployment, a dataset, an evaluator, an experiment,
    a key with a budget, and a logged call: the ids the detail pages need."""

    def __init__(
        self, workspace: Workspace, model: dict[str, Any], request_id: str, ids: dict[str, str]
    ) -> None:
        self.workspace = workspace
        self.model = model
        self.request_id = request_id
        self.ids = ids


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture(scope="module")
def filled(relaygate: RelaygateServer, upstream: FakeUpstream) -> Filled:
    workspace = relaygate.new_workspace("every-page")
    model = workspace.add_model(upstream, "gpt-test", input_cost=0.5, output_cost=1.5)
    router_id = model["router_id"]
    _ok(workspace.api("POST", "/v2/deployments", json={
        "key": "support", "model": router_id,
        "messages": [{"role": "system", "content": "Answer {{topic}} questions briefly."}],
    }))  # fmt: skip
    budget = {"amount_usd": 5, "period": "day"}
    _ok(workspace.api("POST", "/v2/api-keys", json={"name": "team key", "budget": budget}))
    dataset = _ok(workspace.api("POST", "/v2/datasets", json={"display_name": "questions"}))["_id"]
    _ok(workspace.api("POST", f"/v2/datasets/{dataset}/datapoints/bulk", json={
        "items": [{"messages": [{"role": "user", "content": "Hi"}], "expected_output": "Hello"}],
    }))  # fmt: skip
    evaluator = _ok(workspace.api("POST", "/v2/evaluators", json={
        "type": "function_eval", "key": "has-hello",
        "function_params": {"type": "contains_any", "keywords": ["Hello"]},
    }))["_id"]  # fmt: skip
    experiment = _ok(workspace.api("POST", "/v2/experiments", json={
        "name": "first", "dataset_id": dataset, "targets": [{"model": router_id}], "evaluators": [evaluator],
    }))["id"]  # fmt: skip
    answer = workspace.client().chat.completions.with_raw_response.create(
        model=router_id, messages=[{"role": "user", "content": "hi"}]
    )
    request_id = answer.headers["x-request-id"]
    ids = {"dataset": dataset, "evaluator": evaluator, "experiment": experiment}
    return Filled(workspace, model, request_id, ids)


PAGES = [
    ("models", "/studio/models", "Models"),
    ("add model", "/studio/models/new/openai-like", "Add model"),
    ("model detail", "/studio/models/{model}", None),
    ("deployments", "/studio/deployments", "Deployments"),
    ("new deployment", "/studio/deployments/_new", "New deployment"),
    ("deployment detail", "/studio/deployments/support", None),
    ("datasets", "/studio/datasets", "Datasets"),
    ("dataset detail", "/studio/datasets/{dataset}", None),
    ("evaluators", "/studio/evaluators", "Evaluators"),
    ("evaluator", "/studio/evaluators/{evaluator}", None),
    ("experiments", "/studio/experiments", "Experiments"),
    ("new experiment", "/studio/experiments/_new", "New experiment"),
    ("experiment detail", "/studio/experiments/{experiment}", None),
    ("playground", "/studio/playground", "Playground"),
    ("keys", "/studio/keys", "API keys"),
    ("web search", "/studio/search", "Web search"),
    ("usage", "/studio/usage", "Usage"),
    ("logs", "/studio/logs", "Logs"),
    ("log detail", "/studio/logs/{request_id}", None),
    ("spend", "/studio/spend", "Spend"),
    ("alerts", "/studio/alerts", "Alerts"),
    ("audit log", "/studio/audit", "Audit log"),
]


@pytest.mark.parametrize(("name", "path", "heading"), PAGES, ids=[page[0] for page in PAGES])
def test_every_page_passes_axe_at_desktop_and_phone_width(
    studio: Studio, filled: Filled, name: str, path: str, heading: str | None
) -> None:
    studio.sign_in(filled.workspace.admin_key)
    studio.goto(path.format(model=filled.model["id"], request_id=filled.request_id, **filled.ids))
    title = studio.page.get_by_role("heading", level=1)
    expect(title).to_be_visible()
    if heading is not None:
        expect(title).to_have_text(heading)
    expect(studio.page.locator("[aria-busy='true']")).to_have_count(0)
    studio.check_axe(name)
    studio.check_phone(name)


def test_the_sign_in_page_passes_axe(studio: Studio) -> None:
    studio.goto("/studio/sign-in")
    expect(studio.page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    studio.check_axe("sign in")
    studio.check_phone("sign in")
