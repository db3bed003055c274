"""The small vocabularies of the hosted product's SDK shapes (``orq-ai-sdk``, ``@orq-ai/node``).

Both SDKs validate deployment answers against closed enums and camelCase parameter names
(``../shared/contracts/deployments.md``): a provider outside their list, a naive
timestamp or a ``max_tokens`` key makes them reject an answer. Everything here turns
relaygate's own words into theirs. Pure: both planes use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# Providers both SDKs accept (Node 4.15.11 knows fewer than Python 4.17.13: these are common).
SDK_PROVIDERS = frozenset(
    {
        *("openai", "groq", "cohere", "azure", "aws", "google", "google-ai", "huggingface", "togetherai"),
        *("perplexity", "anthropic", "leonardoai", "fal", "nvidia", "jina", "elevenlabs", "litellm"),
        *("cerebras", "openailike", "bytedance", "mistral", "deepseek", "moonshotai", "zai", "minimax"),
        *("xai", "alibaba", "tensorix", "scaleway", "hcompany", "inceptron", "wafer", "poolside"),
        *(
            "tencent",
            "nebius",
            "fireworks",
            "baseten",
            "reson8",
            "meta",
            "greenpt",
            "typesafe",
            "slack",
            "orq",
        ),
    }
)
ANY_PROVIDER = "openailike"  # an OpenAI-compatible upstream the SDKs have no name for

# Our parameter names -> the SDKs' ModelParameters names (camelCase but ``encoding_format``),
# with the JSON types each accepts. Others (stop, tools, logit_bias ...) have no place there.
_NUMBER = (int, float)
_PARAMETERS: dict[str, tuple[str, tuple[type, ...]]] = {
    "temperature": ("temperature", _NUMBER),
    "max_tokens": ("maxTokens", _NUMBER),
    "max_completion_tokens": ("maxTokens", _NUMBER),
    "top_k": ("topK", _NUMBER),
    "top_p": ("topP", _NUMBER),
    "frequency_penalty": ("frequencyPenalty", _NUMBER),
    "presence_penalty": ("presencePenalty", _NUMBER),
    "seed": ("seed", _NUMBER),
    "response_format": ("responseFormat", (dict, str)),
    "reasoning_effort": ("reasoningEffort", (str,)),
    "verbosity": ("verbosity", (str,)),
    "encoding_format": ("encoding_format", (str,)),
}


def sdk_provider(provider: str) -> str:
    """A model's provider as the SDKs' closed ``Provider`` enum has it."""
    name = provider.lower()
    return name if name in SDK_PROVIDERS else ANY_PROVIDER


def version_label(version: int) -> str:
    """Version numbers are strings in SDK shapes: 3 -> ``"v3"``."""
    return f"v{version}"


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z`` (Node rejects naive times and numbers)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def model_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI chat parameters as the SDKs' ``ModelParameters`` object: known names renamed,
    values of another type (and nulls, which Node rejects) left out."""
    shaped: dict[str, Any] = {}
    for name, value in parameters.items():
        known = _PARAMETERS.get(name)
        if known is None or isinstance(value, bool) or not isinstance(value, known[1]):
            continue
        shaped.setdefault(known[0], value)  # max_tokens before max_completion_tokens
    return shaped


def function_tools(tools: Any) -> list[dict[str, Any]]:
    """The function tools of a chat ``tools`` list, in the SDKs' ``{type, function}`` form."""
    if not isinstance(tools, list):
        return []
    shaped = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or tool.get("type") != "function":
            continue
        if not isinstance(function.get("name"), str):
            continue
        entry: dict[str, Any] = {"name": function["name"]}
        for key, kind in (("description", str), ("parameters", dict), ("strict", bool)):
            if isinstance(function.get(key), kind):
                entry[key] = function[key]
        shaped.append({"type": "function", "function": entry})
    return shaped
