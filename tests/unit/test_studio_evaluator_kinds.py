"""The Studio's pure evaluator module (``evaluator-kinds.js``) run by node, without a browser: the
body the form sends for each kind is one the server's own check takes as that kind, the form's
mistakes are caught before sending, a stored evaluator reads back into the same values, and an
API error's ``param`` finds its field. Node is required (scripts/test installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from relaygate.evaluators.config import parse_definition
from relaygate.evaluators.kinds import KINDS as SERVER_KINDS
from relaygate.evaluators.shapes import sdk_fields
from relaygate.experiments.definition import STATUSES

STATIC = Path(__file__).resolve().parents[2] / "src" / "relaygate" / "studio" / "static"
KINDS = STATIC / "evaluator-kinds.js"

# The form's values for each kind, as a person fills them in.
FILLED: dict[str, dict[str, Any]] = {
    "exact_match": {"ignore_case": True, "normalize_whitespace": False},
    "contains": {"keywords": "refund\n  money back \n\n", "match": "all", "ignore_case": True},
    "regex": {"pattern": r"^\d{4}$"},
    "json_valid": {},
    "json_schema": {"schema": '{"type": "object", "required": ["answer"]}'},
    "length_between": {"min_length": "2", "max_length": "40"},
    "embedding_similarity": {"embedding_model": "embed/embed-test", "similarity_threshold": "0.8"},
    "llm_eval": {
        "judge_model": "deployment/judge",
        "prompt": "Rate {{output}} against {{expected}}",
        "judge_output": "number",
        "judge_min": "1",
        "judge_max": "5",
        "judge_threshold": "3",
    },
    "http_eval": {
        "url": "https://scorer.example/score",
        "headers": "Authorization: Bearer s3cret\nX-Team: search",
        "timeout_ms": "2500",
        "http_output": "number",
    },
}


def run_js(body: str) -> Any:
    """Evaluate `body` (an ES module that sets `result`) with the module imported as `kinds`."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not installed: install Node.js 20+ (scripts/test does, through apt)")
    script = (
        f"import * as kinds from {json.dumps(KINDS.as_uri())};\n"
        f"let result;\n{body}\nprocess.stdout.write(JSON.stringify(result));\n"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def body_of(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    return dict(run_js(f"result = kinds.evaluatorBody({json.dumps(kind)}, {json.dumps(values)});"))


@pytest.mark.parametrize("kind", list(FILLED))
def test_the_form_sends_a_body_the_server_takes_as_that_kind(kind: str) -> None:
    made = body_of(kind, FILLED[kind])
    assert made["errors"] == {}
    definition = parse_definition({"key": "checked", **made["body"]})
    assert definition.content["kind"] == kind


def test_each_kind_configures_what_was_filled_in() -> None:
    contains = body_of("contains", FILLED["contains"])["body"]
    assert contains["function_params"] == {
        "type": "contains_all",
        "keywords": ["refund", "money back"],
        "ignore_case": True,
    }
    judge = parse_definition({"key": "j", **body_of("llm_eval", FILLED["llm_eval"])["body"]}).content
    assert judge["output_type"] == "number"
    assert judge["config"] == {
        "model": "deployment/judge",
        "prompt": "Rate {{output}} against {{expected}}",
        "min": 1,
        "max": 5,
        "threshold": 3,
    }
    http = parse_definition({"key": "h", **body_of("http_eval", FILLED["http_eval"])["body"]}).content
    assert http["config"]["headers"] == {"Authorization": "Bearer s3cret", "X-Team": "search"}
    assert (http["config"]["timeout_ms"], http["output_type"]) == (2500, "number")
    schema = parse_definition({"key": "s", **body_of("json_schema", FILLED["json_schema"])["body"]}).content
    assert schema["config"]["schema"] == {"type": "object", "required": ["answer"]}


def test_mistakes_are_caught_before_anything_is_sent() -> None:
    cases = {
        "contains": ({"keywords": " \n "}, {"keywords"}),
        "regex": ({"pattern": ""}, {"pattern"}),
        "json_schema": ({"schema": "{not json"}, {"schema"}),
        "length_between": ({"min_length": "10", "max_length": "5"}, {"max_length"}),
        "embedding_similarity": (
            {"embedding_model": "", "similarity_threshold": "2"},
            {"embedding_model", "similarity_threshold"},
        ),
        "llm_eval": (
            {"judge_output": "number", "judge_min": "5", "judge_max": "1"},
            {"judge_model", "prompt", "judge_max"},
        ),
        "http_eval": (
            {"url": "ftp://x", "headers": "no colon here", "timeout_ms": "10"},
            {"url", "headers", "timeout_ms"},
        ),
    }
    for kind, (values, wrong) in cases.items():
        assert set(body_of(kind, values)["errors"]) == wrong, kind


def test_a_stored_evaluator_reads_back_into_the_form() -> None:
    for kind, values in FILLED.items():
        content = parse_definition({"key": "round-trip", **body_of(kind, values)["body"]}).content
        stored = {"key": "round-trip", **sdk_fields(content)}
        if kind == "llm_eval":
            stored["model"] = {"id": stored["model"]}  # as GET /v2/evaluators/{id} describes a judge
        again = run_js(f"result = kinds.formValues({json.dumps(stored)});")
        assert again["kind"] == kind
        sent, first = body_of(kind, again)["body"], body_of(kind, values)["body"]
        if kind == "http_eval":  # header values come back masked; sent so, the server keeps them
            assert sent.pop("headers").keys() == first.pop("headers").keys()
            assert "s3cret" not in again["headers"]
        if kind == "json_schema":  # shown indented, the same schema
            assert json.loads(sent.pop("schema")) == json.loads(first.pop("schema"))
        assert sent == first, kind


def test_an_error_param_names_its_field() -> None:
    params = [
        "function_params.keywords[2]",
        "function_params.model",
        "model",
        "threshold",
        "headers.X-Team",
        "sample.output",
        "unknown",
    ]
    found = run_js(f"result = {json.dumps(params)}.map((p) => kinds.fieldOfParam(p));")
    assert found == [
        "keywords",
        "embedding_model",
        "judge_model",
        "judge_threshold",
        "headers",
        "sample_output",
        None,
    ]


def test_the_studio_knows_every_kind_and_every_experiment_status() -> None:
    known = run_js("result = [kinds.KINDS.map(([kind]) => kind), Object.keys(kinds.KIND_FIELDS)];")
    assert known == [list(SERVER_KINDS), list(SERVER_KINDS)]
    assert set(FILLED) == set(SERVER_KINDS)
    shared = (STATIC / "lab-shared.js").read_text()
    for table in ("EXPERIMENT_TONES", "EXPERIMENT_WORDS"):
        found = re.search(rf"const {table} = \{{(.*?)\}};", shared, re.DOTALL)
        assert found is not None, table
        assert set(re.findall(r"([a-z_]+):", found.group(1))) == set(STATUSES), table
