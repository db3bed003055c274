"""The deployment files (Dockerfile, deploy/) checked with what runs here.

Neither Docker nor Kubernetes runs on this machine: the files are parsed, their
references to each other and to relaygate's settings are checked, and the Helm chart is
rendered with ``helm template`` when a ``helm`` binary is on the PATH.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "relaygate"
SETTING = re.compile(r"RELAYGATE_[A-Z0-9_]*[A-Z0-9]")
TEMPLATE_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)


def settings_names() -> set[str]:
    """Every RELAYGATE_* variable relaygate reads: all of them go through settings.py."""
    source = (ROOT / "src" / "relaygate" / "settings.py").read_text()
    return set(SETTING.findall(source))


def deployment_texts() -> dict[str, str]:
    paths = [ROOT / "Dockerfile", ROOT / "docs" / "deploy.md", *DEPLOY.rglob("*")]
    return {str(path.relative_to(ROOT)): path.read_text() for path in paths if path.is_file()}


def test_every_relaygate_setting_in_the_deployment_files_exists() -> None:
    known = settings_names()
    unknown = sorted(
        f"{where}: {name}"
        for where, text in deployment_texts().items()
        for name in set(SETTING.findall(text))
        if name not in known
    )
    assert not unknown, f"settings that settings.py does not read: {unknown}"


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "docker-compose.yml").read_text()))


def test_compose_runs_two_relaygates_behind_a_load_balancer_on_shared_stores() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "relaygate-a", "relaygate-b", "loadbalancer"} <= set(services)
    for name in ("relaygate-a", "relaygate-b", "migrate"):
        env = services[name]["environment"]
        assert env["RELAYGATE_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["RELAYGATE_DATABASE_URL"].endswith("@postgres:5432/relaygate")
        assert env["RELAYGATE_REDIS_URL"] == "redis://redis:6379/0"
        assert "RELAYGATE_MASTER_KEY" in env, "every process must open the same sealed keys"
    for name in ("relaygate-a", "relaygate-b"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["command"][0] == "serve"
    assert services["migrate"]["command"] == ["migrate"]


def test_haproxy_checks_readiness_and_knows_both_servers() -> None:
    config = (DEPLOY / "haproxy.cfg").read_text()
    assert "option httpchk GET /health/ready" in config
    servers = re.findall(r"^\s*server (\S+) (\S+):8080", config, re.M)
    assert {host for _, host in servers} == {"relaygate-a", "relaygate-b"}
    mounted = compose()["services"]["loadbalancer"]["volumes"][0].split(":")[0]
    assert (DEPLOY / mounted).resolve() == DEPLOY / "haproxy.cfg"


def test_dockerfile_runs_relaygate_with_a_liveness_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["relaygate"]' in dockerfile
    assert "/health" in dockerfile
    assert "STOPSIGNAL SIGTERM" in dockerfile
    assert "USER relaygate" in dockerfile


def values() -> dict[str, Any]:
    return dict(yaml.safe_load((CHART / "values.yaml").read_text()))


def templates() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted((CHART / "templates").iterdir())}


def test_chart_metadata_and_values_parse() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "relaygate"
    assert set(values()["config"]) <= settings_names()


def test_chart_templates_are_balanced_and_use_only_known_values() -> None:
    opened = ("if", "range", "with", "define")
    for name, text in templates().items():
        actions = TEMPLATE_ACTION.findall(text)
        assert text.count("{{") == text.count("}}") == len(actions), name
        depth = 0
        for action in actions:
            word = action.split(" ", 1)[0]
            depth += word in opened
            depth -= word == "end"
            assert depth >= 0, f"{name}: `end` without an opening action"
        assert depth == 0, f"{name}: an action is not closed"
        for path in re.findall(r"\.Values\.([A-Za-z0-9_.]+)", text):
            node: Any = values()
            for part in path.split("."):
                assert isinstance(node, dict), f"{name}: .Values.{path} goes below a leaf"
                assert part in node, f"{name}: .Values.{path} is not in values.yaml"
                node = node[part]


def test_chart_has_the_kubernetes_objects_with_probes() -> None:
    kinds = {match for text in templates().values() for match in re.findall(r"^kind: (\w+)", text, re.M)}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler", "Job"} <= kinds
    deployment = templates()["deployment.yaml"]
    assert re.search(r"livenessProbe:\s+httpGet:\s+path: /health\n", deployment)
    assert re.search(r"readinessProbe:\s+httpGet:\s+path: /health/ready\n", deployment)
    assert "RELAYGATE_MASTER_KEY" in templates()["_helpers.tpl"]
    assert "secretKeyRef" in templates()["_helpers.tpl"], "the master key comes from the Secret"


@pytest.mark.skipif(shutil.which("helm") is None, reason="helm is not installed (not packaged by Debian)")
def test_helm_template_renders_valid_yaml() -> None:
    rendered = subprocess.run(
        [
            "helm",
            "template",
            "rg",
            str(CHART),
            "--set",
            "masterKey=x",
            "--set",
            "database.url=postgresql+asyncpg://u:p@db/relaygate",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    documents = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert {doc["kind"] for doc in documents} >= {"Deployment", "Service", "ConfigMap", "Secret"}
