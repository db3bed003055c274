"""The official Node SDKs against a real relaygate: ``node --test sdks.test.js``.

``@orq-ai/node`` registers, updates, lists and deletes a model through /v2, and ``openai``
routes, streams and lists through /v3/router; ``deployments.test.js`` invokes, streams,
lists and renders a deployment through ``@orq-ai/node``. Each SDK validates every answer
with its own schemas. Node and npm are required: without them this test fails, it never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support.server import Workspace
from upstream import FakeUpstream

NODE_DIR = Path(__file__).parent
LOCK = NODE_DIR / "package-lock.json"
# Written after each install, as scripts/lib.sh does: node_modules is current while it equals LOCK.
INSTALLED_LOCK = NODE_DIR / "node_modules" / ".installed-lock.json"
NPM_TIMEOUT = 300
NODE_TIMEOUT = 180


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not installed, so the Node SDK tests cannot run: install Node.js 20+ and npm "
            "(scripts/test does, through apt)."
        )
    return path


def _run(command: list[str], *, env: dict[str, str] | None = None, timeout: float) -> None:
    try:
        result = subprocess.run(
            command,
            cwd=NODE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        # The output read before a timeout is bytes, whatever ``text`` says.
        output = b"\n".join(part for part in (exc.stdout, exc.stderr) if isinstance(part, bytes))
        pytest.fail(f"`{' '.join(command)}` took more than {timeout} s:\n{output.decode(errors='replace')}")
    if result.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` exited with {result.returncode}:\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


def _ensure_packages() -> None:
    installed = INSTALLED_LOCK.read_bytes() if INSTALLED_LOCK.exists() else None
    if installed == LOCK.read_bytes():
        return
    _run([_tool("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"], timeout=NPM_TIMEOUT)
    shutil.copyfile(LOCK, INSTALLED_LOCK)


def _node_test(script: str, workspace: Workspace, **settings: str) -> None:
    """``node --test <script>`` against ``workspace``'s server, with ``settings`` in its environment."""
    node = _tool("node")
    _ensure_packages()
    env = {
        **os.environ,
        "RELAYGATE_URL": workspace.server.url,
        "RELAYGATE_ADMIN_KEY": workspace.admin_key,
        **settings,
    }
    _run([node, "--test", "--test-reporter=spec", script], env=env, timeout=NODE_TIMEOUT)


@pytest.mark.timeout(NPM_TIMEOUT + NODE_TIMEOUT + 30)
def test_node_sdks_work_unchanged(workspace: Workspace, upstream: FakeUpstream) -> None:
    _node_test(
        "sdks.test.js", workspace, UPSTREAM_URL=upstream.url, UPSTREAM_API_KEY=upstream.api_key or "unused"
    )


@pytest.mark.timeout(NPM_TIMEOUT + NODE_TIMEOUT + 30)
def test_node_sdk_invokes_deployments(workspace: Workspace, upstream: FakeUpstream) -> None:
    """``@orq-ai/node``'s deployments calls (invoke, stream, list, getConfig): deployments.test.js."""
    model = workspace.add_model(upstream, "gpt-test")
    _node_test("deployments.test.js", workspace, MODEL_ID=str(model["router_id"]))


@pytest.mark.timeout(NPM_TIMEOUT + NODE_TIMEOUT + 30)
def test_node_sdk_reads_datasets_and_evaluators(workspace: Workspace, upstream: FakeUpstream) -> None:
    """``@orq-ai/node``'s datasets and evals calls: datasets-evaluators.test.js."""
    model = workspace.add_model(upstream, "gpt-test")
    _node_test("datasets-evaluators.test.js", workspace, MODEL_ID=str(model["router_id"]))
