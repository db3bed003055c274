"""Evaluators: scoring one answer, as datasets and experiments need it.

An evaluator is a kind and its configuration, checked when it is created
(``config.py``). relaygate's kinds are mapped onto the hosted product's closed set of
evaluator types so its SDKs parse them (``kinds.py``). The engine
(``engine.EvaluatorEngine.evaluate``) scores an answer: the pure kinds in process
(``functions.py``), the ones that need a model through relaygate's own data plane
(``similarity.py``, ``judge.py``, ``router_models.py``), and an admin's HTTP service
(``http_eval.py``). No evaluator runs user code inside relaygate's process.
"""
