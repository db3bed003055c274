"""The experiment object /v2/experiments answers with: its definition, status and progress."""

from __future__ import annotations

from typing import Any

from relaygate.deployments.sdk_shapes import timestamp
from relaygate.experiments.definition import Target
from relaygate.experiments.progress import progress_of
from relaygate.store.experiments import StoredExperiment
from relaygate.usage.pricing import nano_to_usd


def target_labels(experiment: StoredExperiment) -> list[str]:
    return [Target.of(target).label for target in experiment.targets]


def experiment_object(experiment: StoredExperiment) -> dict[str, Any]:
    labels = target_labels(experiment)
    budget = experiment.budget_nano
    return {
        "id": experiment.id,
        "object": "experiment",
        "name": experiment.name,
        "dataset_id": experiment.dataset_id,
        "targets": [
            {"index": index, **target, "label": labels[index]}
            for index, target in enumerate(experiment.targets)
        ],
        "evaluators": experiment.evaluators,
        "parameters": experiment.parameters,
        "concurrency": experiment.concurrency,
        "budget_usd": None if budget is None else float(nano_to_usd(budget)),
        "status": experiment.status,
        "error": experiment.error,
        "progress": progress_of(experiment),
        "created_by": experiment.created_by,
        "run_by": experiment.run_by,
        "created_at": timestamp(experiment.created_at),
        "updated_at": timestamp(experiment.updated_at),
        "started_at": timestamp(experiment.started_at) if experiment.started_at else None,
        "finished_at": timestamp(experiment.finished_at) if experiment.finished_at else None,
    }
