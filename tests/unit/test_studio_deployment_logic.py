"""The Studio's pure deployment modules (``line-diff.js``, ``deployment-rules.js``) run by node,
without a browser: the side-by-side diff, the key rules, the variables of a template, the
fields a PATCH sends. Node is required (scripts/test installs it): without it this fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).resolve().parents[2] / "src" / "relaygate" / "studio" / "static"


def run_js(body: str) -> Any:
    """Evaluate `body` (an ES module that sets `result`) with the Studio's modules imported; its JSON."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not installed: install Node.js 20+ (scripts/test does, through apt)")
    script = (
        f"import * as diff from {json.dumps((STATIC / 'line-diff.js').as_uri())};\n"
        f"import * as rules from {json.dumps((STATIC / 'deployment-rules.js').as_uri())};\n"
        f"let result;\n{body}\nprocess.stdout.write(JSON.stringify(result));\n"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_side_by_side_pairs_a_changed_line_and_keeps_the_rest() -> None:
    rows = run_js("result = diff.sideBySide(['a', 'b', 'c', 'd'], ['a', 'B', 'c', 'd', 'e']);")
    assert [row["kind"] for row in rows] == ["same", "change", "same", "same", "add"]
    assert rows[1] == {"kind": "change", "left": {"n": 2, "text": "b"}, "right": {"n": 2, "text": "B"}}
    assert rows[4] == {"kind": "add", "left": None, "right": {"n": 5, "text": "e"}}


def test_removed_lines_stay_on_the_left_only() -> None:
    rows = run_js("result = diff.sideBySide(['x', 'gone 1', 'gone 2', 'y'], ['x', 'y']);")
    assert [(row["kind"], row["left"] and row["left"]["text"]) for row in rows] == [
        ("same", "x"),
        ("del", "gone 1"),
        ("del", "gone 2"),
        ("same", "y"),
    ]


def test_identical_and_empty_sides() -> None:
    same, empty_left, both_empty = run_js(
        "result = [diff.sideBySide(['a'], ['a']), diff.sideBySide([], ['n']), diff.sideBySide([], [])];"
    )
    assert [row["kind"] for row in same] == ["same"]
    assert empty_left == [{"kind": "add", "left": None, "right": {"n": 1, "text": "n"}}]
    assert both_empty == []


def test_long_unchanged_runs_are_folded_around_changes() -> None:
    rows = run_js(
        "const a = Array.from({length: 20}, (_, i) => `line ${i}`);\n"
        "const b = [...a]; b[10] = 'changed';\n"
        "result = diff.folded(diff.sideBySide(a, b), 2);"
    )
    kinds = [row["kind"] for row in rows]
    assert kinds == ["skip", "same", "same", "change", "same", "same", "skip"]
    assert rows[0]["count"] == 8
    assert rows[-1]["count"] == 7
    unchanged = run_js("result = diff.folded(diff.sideBySide(['a', 'b'], ['a', 'b']));")
    assert [row["kind"] for row in unchanged] == ["same", "same"]


def test_the_longest_common_lines_are_kept_in_a_reordering() -> None:
    rows = run_js("result = diff.diffOps(['a', 'b', 'c'], ['c', 'a', 'b']);")
    assert [op["op"] for op in rows].count("same") == 2


def test_key_rules_say_what_is_wrong() -> None:
    errors = run_js(
        "result = ['customer-support', 'v1.2_x', '', '-lead', 'has space', 'a/b', 'x'.repeat(129)]"
        ".map(rules.keyError);"
    )
    assert errors[:2] == ["", ""]
    assert "Enter a key" in errors[2]
    assert "Start the key with a letter or a digit" in errors[3]
    assert "cannot contain spaces" in errors[4]
    assert "cannot contain “/”" in errors[5]
    assert "at most 128" in errors[6]


def test_variables_as_the_server_finds_them() -> None:
    found = run_js(
        "result = [\n"
        "  rules.variablesOf([\n"
        "    {role: 'system', content: 'Hi {{ name }}, {{name}} about {{topic.sub-part}}'},\n"
        "    {role: 'user', content: [{type: 'text', text: '{{question}}'},\n"
        "      {type: 'image_url', image_url: {url: 'https://x/{{image_id}}.png'}}]}]),\n"
        "  rules.textVariables('{{1bad}} {{ok_1}} {single} {{ }}'),\n"
        "  rules.templatePieces('a {{x}} b'),\n"
        "  rules.contentVariables({messages: [{content: '{{a}}'}],\n"
        "    variants: [{messages: [{content: '{{b}} {{a}}'}]}]}),\n"
        "];"
    )
    assert found[0] == ["name", "topic.sub-part", "question", "image_id"]
    assert found[1] == ["ok_1"]
    assert found[2] == [
        {"text": "a ", "variable": None},
        {"text": "{{x}}", "variable": "x"},
        {"text": " b", "variable": None},
    ]
    assert found[3] == ["a", "b"]


def test_a_patch_sends_only_what_changed_whatever_the_key_order() -> None:
    changed = run_js(
        "const before = {model: 'a/b', parameters: {temperature: 0.2, seed: 1},\n"
        "  retry: {count: 2}, variants: []};\n"
        "result = [\n"
        "  rules.changedFields({...before, parameters: {seed: 1, temperature: 0.2}}, before),\n"
        "  rules.changedFields({...before, retry: null, variants: [{name: 'x'}]}, before),\n"
        "];"
    )
    assert changed[0] == {}
    assert changed[1] == {"retry": None, "variants": [{"name": "x"}]}


def test_param_paths_name_nested_fields() -> None:
    paths = run_js(
        "result = ['variants[1].messages[0].content', 'retry.count', 'key', '', null].map(rules.paramPath);"
    )
    assert paths == [["variants", 1, "messages", 0, "content"], ["retry", "count"], ["key"], [], []]
