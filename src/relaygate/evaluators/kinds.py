"""relaygate's evaluator kinds, and how each is written in the hosted product's closed set of
evaluator ``type`` values (its SDKs refuse any other type).

Every kind keeps its own name in the evaluator object's ``kind``; its ``type`` is the
SDK's: the pure checks are ``function_eval`` (with the ``function_params.type`` that
names the same check), a JSON-schema check is ``json_schema``, the judge ``llm_eval``,
the remote scorer ``http_eval``.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Kind = Literal[
    "exact_match",
    "contains",
    "regex",
    "json_valid",
    "json_schema",
    "length_between",
    "embedding_similarity",
    "llm_eval",
    "http_eval",
]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

# The SDKs' evaluator types (list, create and update replies accept only these).
SdkType = Literal[
    "llm_eval", "json_schema", "http_eval", "python_eval", "function_eval", "ragas", "typescript_eval"
]
OutputType = Literal["boolean", "number"]

SDK_TYPE: Final[dict[Kind, SdkType]] = {
    "exact_match": "function_eval",
    "contains": "function_eval",
    "regex": "function_eval",
    "json_valid": "function_eval",
    "length_between": "function_eval",
    "embedding_similarity": "function_eval",
    "json_schema": "json_schema",
    "llm_eval": "llm_eval",
    "http_eval": "http_eval",
}

# function_params.type -> the kind that serves it.
FUNCTION_KINDS: Final[dict[str, Kind]] = {
    "exact_match": "exact_match",
    "contains": "contains",
    "contains_any": "contains",
    "contains_all": "contains",
    "regex": "regex",
    "is_valid_json": "json_valid",
    "length_between": "length_between",
    "cosine_similarity": "embedding_similarity",
}

# Types whose evaluators run code: relaygate runs none in its process.
CODE_TYPES: Final[dict[str, str]] = {
    "python_eval": "Python code",
    "typescript_eval": "TypeScript code",
    "ragas": "the RAGAS library (Python code)",
}

# A kind whose score is a measure by default, not a pass/fail.
NUMBER_KINDS: Final[frozenset[Kind]] = frozenset({"embedding_similarity", "http_eval"})

# The usage event ``name`` of an evaluator's own model call: ``evaluator:<key>``.
EVALUATOR_CALL_PREFIX: Final = "evaluator:"
