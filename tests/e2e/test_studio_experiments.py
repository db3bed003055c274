"""The Studio's Datasets, Evaluators and Experiments pages in a real headless Chromium, against a
real relaygate and fake upstreams with known answers: an upload previewed, refused with its bad
lines, then imported; rows edited and deleted; an evaluator tried before it is saved; an
experiment created through the form, followed live to its end, its grid, drill-down and charts.
Every page is checked by axe-core at desktop and phone width.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from experiments.conftest import (
    DEPLOYMENT_ANSWERS,
    JUDGE_PROMPT,
    MODEL_ANSWERS,
    SYSTEM,
    add_dataset,
    add_evaluator,
    answering,
    judge_reply,
)

from .browser import Studio
from support.deployment_calls import create_deployment
from support.server import Workspace
from support.usage_events import usage_events
from upstream import DEFAULT_REPLY, FakeUpstream, Fault

# A browser's waits are bounded: run alone (scripts/test), not beside other tests.
pytestmark = pytest.mark.serial

GOOD_CSV = (
    "messages,expected_output,input.country\n"
    '"[{""role"": ""user"", ""content"": ""What is the capital of France?""}]",Paris,France\n'
    '"[{""role"": ""user"", ""content"": ""What is the capital of Italy?""}]",Rome,Italy\n'
    '"[{""role"": ""user"", ""content"": ""What is the capital of Spain?""}]",Madrid,Spain\n'
)
BAD_JSONL = (
    json.dumps({"messages": [{"role": "user", "content": "Fine line"}], "expected_output": "ok"})
    + "\n{not json\n"
    + json.dumps({"messages": [{"role": "wizard", "content": "Who?"}]})
    + "\n"
)


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[FakeUpstream, FakeUpstream, FakeUpstream]]:
    with (
        FakeUpstream(reply=answering(MODEL_ANSWERS)) as model,
        FakeUpstream(reply=answering(DEPLOYMENT_ANSWERS)) as deployment,
        FakeUpstream(reply=judge_reply) as judge,
    ):
        yield model, deployment, judge


def _file(name: str, text: str, mime: str) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": text.encode()}


def _datapoints(workspace: Workspace, dataset_id: str) -> list[dict[str, Any]]:
    response = workspace.api("GET", f"/v2/datasets/{dataset_id}/datapoints", params={"limit": 50})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def _checked(studio: Studio, where: str) -> None:
    studio.check_axe(where)
    studio.check_phone(where)


def test_upload_is_previewed_refused_with_its_lines_then_imported(
    studio: Studio, workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = str(workspace.add_model(fake_upstream, "gpt-test", provider="traffic")["router_id"])
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Datasets", exact=True).click()
    expect(page.get_by_role("heading", name="No datasets yet")).to_be_visible()
    _checked(studio, "the empty dataset list")

    page.get_by_role("button", name="Create dataset").click()
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Enter a name for the dataset.")).to_be_visible()
    page.get_by_label("Name").fill("capitals")
    page.get_by_role("button", name="Create dataset").click()
    expect(page.get_by_role("heading", level=1, name="capitals")).to_be_visible()
    expect(page.locator(".flash-slot")).to_contain_text("was created")
    dataset_id = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_role("heading", name="No datapoints yet")).to_be_visible()

    # A file with bad lines: checked, refused whole, each bad line named by its number.
    page.get_by_role("tab", name="Upload").click()
    page.get_by_label("CSV or JSONL file").set_input_files(_file("bad.jsonl", BAD_JSONL, "application/jsonl"))
    refusal = page.get_by_role("alert").filter(has_text="Nothing was imported")
    expect(refusal).to_contain_text("2 lines of the file are not valid datapoints")
    errors = page.get_by_role("list", name="Lines with errors").get_by_role("listitem")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("Line 2:")
    expect(errors.nth(1)).to_contain_text("Line 3:")
    expect(errors.nth(1)).to_contain_text("role")
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_be_hidden()
    assert _datapoints(workspace, dataset_id) == []
    _checked(studio, "an upload refused with its line errors")

    # A good file: previewed, nothing stored until Import.
    page.get_by_label("CSV or JSONL file").set_input_files(_file("capitals.csv", GOOD_CSV, "text/csv"))
    expect(page.get_by_text("3 datapoints ready to import from capitals.csv")).to_be_visible()
    preview = page.get_by_role("table", name="Preview of the file")
    expect(preview.get_by_role("row")).to_have_count(4)
    expect(preview.get_by_role("row").nth(1)).to_contain_text("What is the capital of France?")
    expect(preview.get_by_role("row").nth(1)).to_contain_text("country=France")
    expect(preview.get_by_role("row").nth(3)).to_contain_text("Madrid")
    assert _datapoints(workspace, dataset_id) == []
    _checked(studio, "an upload's preview")
    studio.screenshot("datasets")
    page.get_by_role("button", name="Import 3 datapoints").click()
    expect(page.get_by_text("3 datapoints imported from capitals.csv.")).to_be_visible()
    stored = _datapoints(workspace, dataset_id)
    assert [point["expected_output"] for point in stored] == ["Paris", "Rome", "Madrid"]
    assert stored[0]["inputs"] == {"country": "France"}
    assert stored[0]["messages"] == [{"role": "user", "content": "What is the capital of France?"}]

    # The rows: edit one, delete one.
    page.get_by_role("tab", name="Datapoints").click()
    table = page.get_by_role("table", name="Datapoints of capitals")
    expect(table.get_by_role("row")).to_have_count(4)
    page.get_by_role("button", name="Edit datapoint 2").click()
    dialog = page.get_by_role("dialog", name="Edit datapoint")
    dialog.get_by_label("Inputs (JSON object)").fill("{not json")
    dialog.get_by_role("button", name="Save datapoint").click()
    expect(dialog.get_by_label("Inputs (JSON object)")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("Inputs (JSON object)").fill('{"country": "Italia"}')
    dialog.get_by_label("Expected output").fill("Roma")
    dialog.get_by_role("button", name="Save datapoint").click()
    expect(page.get_by_text("Datapoint 2 was saved.")).to_be_visible()
    expect(table.get_by_role("row").nth(2)).to_contain_text("Roma")
    page.get_by_role("button", name="Delete datapoint 3").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete datapoint").click()
    expect(page.get_by_text("Datapoint 3 was deleted.")).to_be_visible()
    stored = _datapoints(workspace, dataset_id)
    assert [(p["expected_output"], p.get("inputs")) for p in stored] == [
        ("Paris", {"country": "France"}),
        ("Roma", {"country": "Italia"}),
    ]
    expect(page.locator(".header-meta")).to_contain_text("2 datapoints")
    page.get_by_role("button", name="Add a datapoint").click()
    dialog = page.get_by_role("dialog", name="Add a datapoint")
    dialog.get_by_label("Messages (JSON)").fill(
        '[{"role": "user", "content": "What is the capital of Peru?"}]'
    )
    dialog.get_by_label("Expected output").fill("Lima")
    _checked(studio, "the datapoint dialog")
    dialog.get_by_role("button", name="Add datapoint").click()
    expect(page.get_by_text("The datapoint was added.")).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(4)
    expect(table.get_by_role("row").nth(3)).to_contain_text("What is the capital of Peru?")
    expect(page.locator(".header-meta")).to_contain_text("3 datapoints")
    _checked(studio, "a dataset's datapoints")

    # From traffic: while the workspace logs no bodies the page says so; once it does, a
    # recorded call becomes a datapoint (its question, and its answer as the expected output).
    page.get_by_role("tab", name="From traffic").click()
    page.get_by_role("button", name="Add datapoints from traffic").click()
    expect(page.get_by_role("status").filter(has_text="Body logging is off")).to_be_visible()
    _checked(studio, "datapoints from traffic, body logging off")
    turned = workspace.api("PATCH", "/v2/workspace/logging", json={"log_bodies": True})
    assert turned.status_code == 200, turned.text
    workspace.client().chat.completions.create(
        model=model, messages=[{"role": "user", "content": "What is the capital of Chile?"}]
    )
    usage_events(workspace, 1, model=model)
    page.get_by_label("Model").select_option(model)
    page.get_by_role("button", name="Add datapoints from traffic").click()
    expect(page.get_by_text("1 datapoint created from 1 recorded call.")).to_be_visible()
    expect(page.locator(".header-meta")).to_contain_text("4 datapoints")
    made = _datapoints(workspace, dataset_id)[-1]
    assert made["messages"] == [{"role": "user", "content": "What is the capital of Chile?"}]
    assert made["expected_output"] == DEFAULT_REPLY

    # Export: the file the API streams, downloaded with the admin key.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSONL").click()
    lines = [json.loads(line) for line in download.value.path().read_text().splitlines()]
    assert [line["expected_output"] for line in lines] == ["Paris", "Roma", "Lima", DEFAULT_REPLY]

    page.get_by_role("link", name="Datasets", exact=True).first.click()
    row = page.get_by_role("row").filter(has_text="capitals")
    expect(row.get_by_role("cell").nth(1)).to_have_text("4")
    _checked(studio, "the dataset list")


def test_an_evaluator_is_tested_before_it_is_saved(
    studio: Studio, workspace: Workspace, upstreams: tuple[FakeUpstream, FakeUpstream, FakeUpstream]
) -> None:
    judge = str(workspace.add_model(upstreams[2], "gpt-test", provider="judge")["router_id"])
    embedder = str(
        workspace.add_model(upstreams[2], "embed-test", provider="embed", model_type="embedding")["router_id"]
    )
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Evaluators", exact=True).click()
    expect(page.get_by_role("heading", name="No evaluators yet")).to_be_visible()
    _checked(studio, "the empty evaluator list")
    page.get_by_role("link", name="Create evaluator").first.click()
    expect(page.get_by_role("heading", level=1, name="New evaluator")).to_be_visible()

    # Contains: the kind's own fields, scored on a sample before saving.
    page.get_by_role("textbox", name="Key", exact=True).fill("mentions-paris")
    page.get_by_label("Kind").select_option("contains")
    expect(page.get_by_label("Pattern")).to_be_hidden()
    page.get_by_label("Keywords").fill("paris")
    page.get_by_label("Ignore case").check()
    panel = page.get_by_role("region", name="Test before saving")
    panel.get_by_role("textbox", name="Output", exact=True).fill("It is Paris, of course.")
    panel.get_by_role("button", name="Test").click()
    expect(panel.locator(".lab-score-result")).to_contain_text("Passed: score 1")
    panel.get_by_role("textbox", name="Output", exact=True).fill("Rome")
    panel.get_by_role("button", name="Test").click()
    expect(panel.locator(".lab-score-result")).to_contain_text("Failed: score 0")

    # A regex the server cannot compile: its message lands under the Pattern field.
    page.get_by_label("Kind").select_option("regex")
    page.get_by_label("Pattern").fill("(unclosed")
    panel.get_by_role("button", name="Test").click()
    expect(page.get_by_label("Pattern")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field", has=page.get_by_label("Pattern")).locator(".field-error")).to_contain_text(
        "function_params.pattern"
    )

    # Similarity through an embedding model of the workspace: the same text is a cosine of 1.
    page.get_by_label("Kind").select_option("embedding_similarity")
    page.get_by_label("Embedding model").select_option(embedder)
    page.get_by_role("textbox", name="Pass threshold").fill("0.99")
    panel.get_by_role("textbox", name="Output", exact=True).fill("Paris")
    panel.get_by_role("button", name="Test").click()
    expect(panel.get_by_label("Expected output")).to_have_attribute("aria-invalid", "true")
    panel.get_by_label("Expected output").fill("Paris")
    panel.get_by_role("button", name="Test").click()
    expect(panel.locator(".lab-score-result")).to_contain_text("Passed: score 1")
    expect(panel.locator(".lab-score-result")).to_contain_text("Cosine similarity 1.0000.")
    panel.get_by_label("Expected output").fill("")

    # The judge: a model of the workspace (played by the fake upstream) gives a score and a reason.
    page.get_by_label("Kind").select_option("llm_eval")
    page.get_by_role("textbox", name="Key", exact=True).fill("judge")
    page.get_by_label("Judge model or deployment").select_option(judge)
    page.get_by_label("Judge prompt").fill(JUDGE_PROMPT)
    page.get_by_label("The judge gives").select_option("number")
    page.get_by_label("Lowest score").fill("1")
    page.get_by_label("Highest score").fill("5")
    page.get_by_role("textbox", name="Pass threshold").fill("3")
    panel.get_by_label("Input").fill("What is the capital of France?")
    panel.get_by_role("textbox", name="Output", exact=True).fill("Paris")
    panel.get_by_role("button", name="Test").click()
    result = panel.locator(".lab-score-result")
    expect(result).to_contain_text("Passed: score 5")
    expect(result).to_contain_text("Paris rated 5.")
    panel.get_by_role("textbox", name="Output", exact=True).fill("Barcelona")
    panel.get_by_role("button", name="Test").click()
    expect(result).to_contain_text("Failed: score 1")
    expect(result).to_contain_text("Barcelona rated 1.")
    _checked(studio, "the evaluator form with a test result")
    studio.screenshot("evaluators")

    page.get_by_role("button", name="Create evaluator").click()
    expect(page.locator(".flash-slot")).to_contain_text("The evaluator judge was created.")
    stored = workspace.api("GET", "/v2/evaluators/judge").json()
    assert (stored["kind"], stored["model"], stored["prompt"]) == ("llm_eval", {"id": judge}, JUDGE_PROMPT)
    assert (stored["min"], stored["max"], stored["threshold"]) == (1, 5, 3)
    row = page.get_by_role("row").filter(has_text="judge")
    expect(row).to_contain_text("LLM as judge")
    expect(row).to_contain_text("Number")
    expect(row).to_contain_text("v1")
    _checked(studio, "the evaluator list")

    # Changing it makes version 2; the form opens with what is stored.
    row.get_by_role("link", name="judge").click()
    expect(page.get_by_role("heading", level=1, name="Edit judge")).to_be_visible()
    expect(page.get_by_label("Judge prompt")).to_have_value(JUDGE_PROMPT)
    expect(page.get_by_role("textbox", name="Pass threshold")).to_have_value("3")
    page.get_by_role("textbox", name="Pass threshold").fill("4")
    page.get_by_role("button", name="Save as new version").click()
    expect(page.locator(".flash-slot")).to_contain_text("judge is at version 2.")
    changed = workspace.api("GET", "/v2/evaluators/judge").json()
    assert (changed["version"], changed["threshold"], changed["prompt"]) == (2, 4, JUDGE_PROMPT)


def test_an_experiment_made_in_the_form_runs_to_its_end(
    studio: Studio, workspace: Workspace, upstreams: tuple[FakeUpstream, FakeUpstream, FakeUpstream]
) -> None:
    model_upstream, deployment_upstream, judge_upstream = upstreams
    model = str(
        workspace.add_model(model_upstream, "gpt-test", provider="alpha", input_cost=1000, output_cost=2000)[
            "router_id"
        ]
    )
    other = str(
        workspace.add_model(
            deployment_upstream, "gpt-test", provider="beta", input_cost=500, output_cost=500
        )["router_id"]
    )
    judge = str(workspace.add_model(judge_upstream, "gpt-test", provider="judge")["router_id"])
    deployment = create_deployment(workspace, other, messages=[{"role": "system", "content": SYSTEM}])
    add_evaluator(
        workspace, {"type": "function_eval", "key": "exact", "function_params": {"type": "exact_match"}}
    )
    add_evaluator(
        workspace,
        {"type": "llm_eval", "key": "judge", "model": judge, "prompt": JUDGE_PROMPT, "output_type": "number",
         "min": 1, "max": 5, "threshold": 3},
    )  # fmt: skip
    dataset, _ = add_dataset(workspace, ("France", "Italy", "Spain"))
    # Slow answers, so the run is watched while it goes.
    for upstream in (model_upstream, deployment_upstream):
        upstream.reset()
        upstream.script("/v1/chat/completions", [Fault(delay=0.4)] * 3)

    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Experiments", exact=True).click()
    expect(page.get_by_role("heading", name="No experiments yet")).to_be_visible()
    _checked(studio, "the empty experiment list")
    page.get_by_role("link", name="New experiment").first.click()
    expect(page.get_by_role("heading", level=1, name="New experiment")).to_be_visible()

    page.get_by_role("button", name="Create and start").click()
    expect(page.get_by_label("Name")).to_be_focused()
    expect(page.get_by_text("Enter a name for the experiment.")).to_be_visible()
    page.get_by_label("Name").fill("capitals")
    page.get_by_label("Dataset").select_option(dataset)
    first = page.get_by_role("group", name="Target 1", exact=True)
    second = page.get_by_role("group", name="Target 2", exact=True)
    first.get_by_label("Model").select_option(model)
    second.get_by_label("Kind").select_option("deployment")
    second.get_by_label("Deployment").select_option(deployment)
    second.get_by_label("Version").fill("1")
    page.get_by_label("exact Exact match").check()
    page.get_by_label("judge LLM as judge").check()
    page.get_by_label("Concurrency").fill("1")
    page.get_by_label("Budget (USD)").fill("5")
    _checked(studio, "the new-experiment form")
    studio.screenshot("experiment-new")
    page.get_by_role("button", name="Create and start").click()

    expect(page.get_by_role("heading", level=1, name="capitals")).to_be_visible()
    progress = page.get_by_role("progressbar", name="Experiment progress")
    expect(progress).to_be_visible()
    expect(page.locator(".lab-progress-text")).to_contain_text(re.compile(r"[0-5] of 6 finished"))
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.locator(".lab-progress-text")).to_contain_text("6 of 6 finished", timeout=30_000)
    expect(page.locator(".header-meta")).to_contain_text("Completed")
    expect(page.locator(".lab-progress-text")).to_contain_text("Failed 0")
    expect(page.locator(".lab-progress-text")).to_contain_text("Remaining 0")
    assert progress.get_attribute("value") == "6"
    stored = workspace.api("GET", "/v2/experiments").json()["data"][0]
    assert stored["targets"][1] == {
        "index": 1,
        "deployment": deployment,
        "version": 1,
        "label": f"deployment:{deployment}@v1",
    }
    assert stored["budget_usd"] == 5
    assert stored["concurrency"] == 1

    # The grid: a row per datapoint, a column per target, each score in colour and in words.
    grid = page.get_by_role("table", name=re.compile("^Results"))
    rows = grid.get_by_role("row")
    expect(rows).to_have_count(4)
    spain = rows.nth(3)
    expect(spain).to_contain_text("What is the capital of Spain?")
    cells = spain.get_by_role("cell")
    expect(cells.nth(0)).to_contain_text("Barcelona")
    expect(cells.nth(0).locator(".badge-danger")).to_have_text(["exact: ✗ fail 0", "judge: ✗ fail 1"])
    expect(cells.nth(1)).to_contain_text("Madrid")
    expect(cells.nth(1).locator(".badge-success")).to_have_text(["exact: ✓ pass 1", "judge: ✓ pass 5"])
    summary = page.get_by_role("table", name="Summary per target")
    expect(summary.get_by_role("row").nth(1)).to_contain_text("mean 0.667 · 66.7% pass")
    expect(summary.get_by_role("row").nth(1)).to_contain_text("3 / 3")

    # The charts: a dot per target.
    charts = page.locator("figure.lab-chart")
    expect(charts).to_have_count(2)
    expect(charts.nth(0).locator(".lab-dot")).to_have_count(2)
    expect(charts.nth(0)).to_contain_text("Score vs cost")
    charts.nth(0).locator("svg").focus()
    page.keyboard.press("ArrowRight")
    expect(charts.nth(0).locator(".lab-chart-readout")).to_contain_text(f"1. model:{model}: exact mean 0.667")

    # The drill-down: every target's answer to one datapoint, side by side.
    page.get_by_role("button", name="Compare the answers to datapoint 3").click()
    drill = page.get_by_role("region", name="Datapoint 3: every answer side by side")
    expect(drill.get_by_role("heading", level=2)).to_be_focused()
    answers = drill.get_by_role("article")
    expect(answers).to_have_count(2)
    expect(answers.nth(0)).to_contain_text("Barcelona")
    expect(answers.nth(0)).to_contain_text("Barcelona rated 1.")
    expect(answers.nth(1)).to_contain_text("Madrid")
    expect(answers.nth(1)).to_contain_text("Madrid rated 5.")
    expect(answers.nth(1)).to_contain_text("v1")
    expect(drill).to_contain_text("Expected output: Madrid")
    _checked(studio, "a finished experiment")
    page.get_by_role("heading", level=1).scroll_into_view_if_needed()
    studio.screenshot("experiment-results")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export results CSV").click()
    exported = download.value.path().read_text().splitlines()
    assert exported[0].startswith("datapoint_id,target,target_label,status,output")
    assert len(exported) == 7

    page.get_by_role("link", name="Experiments", exact=True).first.click()
    row = page.get_by_role("row").filter(has_text="capitals")
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("6 / 6")
    _checked(studio, "the experiment list")


def test_a_run_is_paused_and_resumed_from_its_page(
    studio: Studio, workspace: Workspace, upstreams: tuple[FakeUpstream, FakeUpstream, FakeUpstream]
) -> None:
    model_upstream = upstreams[0]
    model = str(workspace.add_model(model_upstream, "gpt-test", provider="alpha")["router_id"])
    dataset, _ = add_dataset(workspace, ("France", "Italy", "Spain"))
    created = workspace.api(
        "POST",
        "/v2/experiments",
        json={"name": "paced", "dataset_id": dataset, "targets": [{"model": model}], "concurrency": 1},
    ).json()
    model_upstream.reset()
    model_upstream.script("/v1/chat/completions", [Fault(delay=1.0)] * 3)

    page = studio.page
    studio.sign_in(workspace.admin_key)
    studio.goto(f"/studio/experiments/{created['id']}")
    expect(page.locator(".header-meta")).to_contain_text("Draft")
    expect(page.get_by_text("Start the experiment to see its results here.")).to_be_visible()
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".header-meta")).to_contain_text("Running")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".header-meta")).to_contain_text("Paused")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    paused = workspace.api("GET", f"/v2/experiments/{created['id']}").json()
    assert paused["status"] == "paused"
    assert paused["progress"]["done"] < 3
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".lab-progress-text")).to_contain_text("3 of 3 finished", timeout=30_000)
    expect(page.locator(".header-meta")).to_contain_text("Completed")
    expect(page.get_by_role("table", name=re.compile("^Results")).get_by_role("row")).to_have_count(4)
    assert len(model_upstream.requests_to("/chat/completions")) == 3, "no datapoint generated twice"
