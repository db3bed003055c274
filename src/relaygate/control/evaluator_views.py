"""The objects /v2/evaluators answers with, in the shapes the hosted product's SDKs parse.

One document serves list, create, update and get-by-id: it carries the union of their
required keys (``display_name``, ``owner``, ``domain_id``, ``metadata`` for get-by-id),
which the other replies ignore. The one difference: get-by-id describes a judge's model
as an object (``{"id": ...}``), the others as a string. relaygate has one project per
workspace: ``project_id`` is the workspace's id.
"""

from __future__ import annotations

from typing import Any

from relaygate.deployments.sdk_shapes import timestamp
from relaygate.evaluators.shapes import sdk_fields
from relaygate.store.evaluators import EvaluatorVersion, StoredEvaluator

_NEEDS_EXPECTED = frozenset({"exact_match", "embedding_similarity"})


def evaluator_object(evaluator: StoredEvaluator, *, detailed: bool = False) -> dict[str, Any]:
    fields = sdk_fields(evaluator.content)
    shaped: dict[str, Any] = {
        "_id": evaluator.id,
        "key": evaluator.key,
        **fields,
        "display_name": evaluator.key,
        "owner": evaluator.created_by,
        "domain_id": evaluator.workspace_id,
        "project_id": evaluator.workspace_id,
        "metadata": {"required_expected_output": fields["kind"] in _NEEDS_EXPECTED},
        "enabled": True,
        "version": evaluator.version,
        "created": timestamp(evaluator.created_at),
        "updated": timestamp(evaluator.updated_at),
        "created_by_id": evaluator.created_by,
        "updated_by_id": evaluator.updated_by,
    }
    if detailed and fields["type"] == "llm_eval":
        shaped["model"] = {"id": fields["model"]}
    return shaped


def version_object(version: EvaluatorVersion) -> dict[str, Any]:
    """One version: its number, note and the whole definition it held."""
    return {
        "_id": version.id,
        "object": "evaluator.version",
        "evaluator_id": version.evaluator_id,
        "version": version.version,
        "note": version.note,
        "created": timestamp(version.created_at),
        "created_by_id": version.created_by,
        **sdk_fields(version.content),
    }
