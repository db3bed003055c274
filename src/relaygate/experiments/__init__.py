"""Experiments: a dataset run against several models and deployments, every answer scored.

``definition`` (targets, statuses, parameters), ``requests`` (the chat request a datapoint
makes of a target), ``streaming`` (that call through the router in process, time to first
token included), ``metering`` (what the calls cost, for the budget), ``item_work`` (one
datapoint x target: answer, then scores), ``run`` (one experiment in the process holding
its lease), ``runner`` (taking and running experiments nobody runs), ``aggregation``
(per-target summaries), ``exports`` (results as objects, JSONL, CSV) and ``progress``
(server-sent progress events). The SQL is in ``store/experiments.py`` and
``store/experiment_items.py``; the HTTP API in ``control/experiments_api.py``.
"""
