"""The Studio's pure request log module (``log-rules.js``) run by node, without a browser: a
stored body shown as indented JSON or as it is, bounded; the filters' query string. Node is
required (scripts/test installs it): without it this fails."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

RULES = Path(__file__).resolve().parents[2] / "src" / "relaygate" / "studio" / "static" / "log-rules.js"


def run_js(body: str) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not installed: install Node.js 20+ (scripts/test does, through apt)")
    script = (
        f"import * as rules from {json.dumps(RULES.as_uri())};\n"
        f"let result;\n{body}\nprocess.stdout.write(JSON.stringify(result));\n"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_json_body_is_indented_and_other_text_kept_as_stored() -> None:
    shown = run_js("""result = [
        rules.prettyBody('{"model":"m","messages":[{"role":"user"}]}'),
        rules.prettyBody('data: {"a":1}\\n\\ndata: [DONE]'),
        rules.prettyBody('{"cut": "x\\n[cut: 99999 bytes in all]'),
        rules.prettyBody(null),
    ];""")
    assert shown[0] == json.dumps({"model": "m", "messages": [{"role": "user"}]}, indent=2)
    assert shown[1] == 'data: {"a":1}\n\ndata: [DONE]'
    assert shown[2].endswith("[cut: 99999 bytes in all]")
    assert shown[3] is None


def test_a_long_body_is_bounded_and_says_how_much_is_left_out() -> None:
    shown = run_js("result = rules.prettyBody('y'.repeat(rules.BODY_VIEW_CHARS + 10));")
    assert shown.startswith("y" * 100)
    assert shown.endswith("(10 more characters not shown)")


def test_the_query_leaves_out_empty_filters() -> None:
    text = run_js(
        "result = rules.filterQuery({model: 'a/b', key: '', status: null, limit: 50, from: undefined})"
        ".toString();"
    )
    assert text == "model=a%2Fb&limit=50"
