"""The conversation a searching call holds with its model, round after round.

It starts as the caller's chat body (a ``/responses`` body translated onto chat first,
its ``web_search`` tool taken out) and grows by one assistant message with the round's
``web_search`` calls and one tool message per search. Each round's body offers the
``web_search`` function beside the caller's own tools, until the search bound is reached:
then one last round goes without it, so the model must answer.

``tool_choice``: ``"required"``, or a choice naming the search tool, forces a search in the
first round only (afterwards the model may answer: a search was made); a choice naming
one of the caller's functions is passed on (the model calls it and the loop ends).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from relaygate.errors import InvalidRequest
from relaygate.router.responses_api.protocol import as_list
from relaygate.router.responses_api.translate import request_to_chat
from relaygate.web_search.options import (
    SEARCH_TOOL_TYPES,
    SOURCES_INCLUDE,
    SearchOptions,
    chat_options,
    is_search_tool,
    responses_options,
)
from relaygate.web_search.tool import SEARCH_FUNCTION, SEARCH_TOOL

from .turn import ToolCall

FORCE_SEARCH = {"type": "function", "function": {"name": SEARCH_FUNCTION}}


def _function_name(tool: Any) -> str | None:
    function = tool.get("function") if isinstance(tool, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    return name if isinstance(name, str) else None


@dataclass(slots=True)
class Conversation:
    base: dict[str, Any]  # the chat body but its messages, tools and tool_choice
    messages: list[Any]
    tools: list[Any]  # the caller's own
    tool_choice: Any  # the caller's (FORCE_SEARCH for one naming the search tool); None: not given
    added: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, chat: dict[str, Any], tool_choice: Any) -> Conversation:
        """From a chat body the caller's request became (a copy this takes apart)."""
        messages = chat.pop("messages", None)
        if not isinstance(messages, list) or not messages:
            raise InvalidRequest("Missing required parameter: 'messages'.", param="messages")
        tools = chat.pop("tools", None) or []
        if not isinstance(tools, list):
            raise InvalidRequest("'tools' must be an array.", param="tools")
        if any(_function_name(tool) == SEARCH_FUNCTION for tool in tools):
            raise InvalidRequest(
                f"A function named '{SEARCH_FUNCTION}' clashes with the web search relaygate offers the "
                "model under that name; rename the function.",
                param="tools",
                code="tool_name_conflict",
            )
        chat.pop("tool_choice", None)
        return cls(chat, messages, tools, tool_choice)

    def body(self, offer_search: bool, first_round: bool) -> dict[str, Any]:
        """The chat body of the next round."""
        body = dict(self.base)
        body["messages"] = [*self.messages, *self.added]
        tools = [*self.tools, SEARCH_TOOL] if offer_search else list(self.tools)
        if tools:
            body["tools"] = tools
            choice = self._choice(offer_search, first_round)
            if choice is not None:
                body["tool_choice"] = choice
        return body

    def _choice(self, offer_search: bool, first_round: bool) -> Any:
        choice = self.tool_choice
        if choice is FORCE_SEARCH or choice == "required":
            return choice if first_round and offer_search else "auto"
        return choice

    def add_searches(self, text: str, calls: list[ToolCall], results: list[str]) -> None:
        """The round's search calls and what each found, for the next round to read."""
        self.added.append(
            {
                "role": "assistant",
                "content": text or None,
                "tool_calls": [call.message_part() for call in calls],
            }
        )
        self.added.extend(
            {"role": "tool", "tool_call_id": call.id, "content": content}
            for call, content in zip(calls, results, strict=True)
        )


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A searching call's facts, read once from its body."""

    conversation: Conversation
    options: SearchOptions
    with_sources: bool = False  # Responses: include asks for web_search_call.action.sources
    include_usage: bool = False  # chat stream: the client asked for the usage chunk
    max_searches: int | None = None  # Responses: max_tool_calls, a bound below the backend's

    def bound(self, backend_max: int) -> int:
        return backend_max if self.max_searches is None else min(backend_max, self.max_searches)


def chat_search(body: Mapping[str, Any]) -> SearchRequest:
    """A chat body with ``web_search_options``."""
    chat = dict(body)
    options = chat_options(chat.pop("web_search_options"))
    n = chat.get("n")
    if n is not None and n != 1:
        raise InvalidRequest("Web search answers with one choice: 'n' must be 1.", param="n")
    stream_options = chat.get("stream_options")
    include_usage = isinstance(stream_options, dict) and stream_options.get("include_usage") is True
    return SearchRequest(Conversation.of(chat, chat.get("tool_choice")), options, include_usage=include_usage)


def responses_search(body: Mapping[str, Any]) -> SearchRequest:
    """A ``/responses`` body with a ``web_search`` tool, translated onto chat."""
    tools = as_list(body.get("tools"))
    searches = [tool for tool in tools if is_search_tool(tool)]
    choice = body.get("tool_choice")
    forced = isinstance(choice, dict) and choice.get("type") in SEARCH_TOOL_TYPES
    stripped = {**body, "tools": [tool for tool in tools if not is_search_tool(tool)]}
    if forced:
        stripped.pop("tool_choice")
    chat = request_to_chat(stripped)
    limit = chat.pop("max_tool_calls", None)  # built-in tool calls: these searches
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InvalidRequest("'max_tool_calls' must be a whole number of 1 or more.", param="max_tool_calls")
    include = body.get("include")
    return SearchRequest(
        Conversation.of(chat, FORCE_SEARCH if forced else chat.get("tool_choice")),
        responses_options(searches[0]),
        with_sources=isinstance(include, list) and SOURCES_INCLUDE in include,
        max_searches=limit,
    )
