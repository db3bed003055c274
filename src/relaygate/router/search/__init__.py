"""Web search run by relaygate for models that cannot search themselves (issue 26).

``forwarder`` picks the calls out and serves them; ``conversation`` holds what the model
is sent round after round; ``rounds`` sends one round through the usual policy and
``turn`` reads its answer; ``loop`` runs the rounds and the searches; ``output``,
``responses_output`` and ``chat_output`` give the client each API's answer, whole or
streamed. The search itself (backends, results, citations) is ``relaygate.web_search``.
"""

from __future__ import annotations

from .forwarder import SearchForwarder

__all__ = ["SearchForwarder"]
