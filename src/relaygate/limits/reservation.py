"""What a call is taken to cost at most, reserved against its budgets before it is sent.

    reservation = prompt bound x input price + completion bound x n x output price
                + n x price per image (image endpoints)

- **Prompt bound**: the client's body size in bytes. Every token of text covers at least
  one byte, so this bounds the prompt from above (English text runs 3-4 bytes a token,
  so it is 3-4 times the real count); counting tokens exactly would take the offline
  tokenizer on the hot path (milliseconds for a long prompt). The bytes of an uploaded
  file (audio, an image to edit) say nothing useful about its tokens, so uploads reserve
  no prompt: their cost is known when they settle.
- **Completion bound**, per answer: the client's own ``max_tokens`` (or
  ``max_completion_tokens``, ``max_output_tokens``), else the model's default
  ``max_tokens`` (which relaygate sends upstream, so it is a real bound), else
  ``completion_reserve`` (``RELAYGATE_BUDGET_COMPLETION_RESERVE``, 1024 by default): a
  typical answer's length, not a bound. Reserving a model's whole output window instead
  would refuse every small budget on its first call. A longer answer settles at its real
  cost, so a call without any bound may overshoot a budget by what it produced past the
  reservation; then later calls are refused.
- Embeddings, moderations and rerank produce no completion tokens.

Tokens-per-minute limits hold tokens the same way (``token_reservation``): an admitted
call takes its prompt estimate (a token per 4 bytes, OpenAI's rule of thumb for its own
limits) plus its completion bound from the bucket at once, and settling replaces that by
the tokens it used. A call admitted before the one ahead of it has settled (its answer is
sent before its usage is accounted) therefore sees that call's tokens already taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from relaygate.usage.pricing import reserve_nano

if TYPE_CHECKING:
    from relaygate.catalog import RoutableModel

DEFAULT_COMPLETION_RESERVE = 1024
_NO_COMPLETION = frozenset({"embeddings", "moderations", "rerank"})
_FILE_BODIES = frozenset({"images.edits", "images.variations", "audio.transcriptions", "audio.translations"})


class Named(Protocol):
    @property
    def name(self) -> str: ...


class Identified(Protocol):
    @property
    def identity_id(self) -> str | None: ...


class Admissible(Protocol):
    """What admission reads of a prepared call (``router/call.py``): no body, no re-parse."""

    @property
    def model(self) -> RoutableModel: ...
    @property
    def endpoint(self) -> Named: ...
    @property
    def attribution(self) -> Identified: ...
    @property
    def size(self) -> int: ...
    @property
    def max_tokens(self) -> int | None: ...
    @property
    def n(self) -> int: ...


def prompt_bound(call: Admissible) -> int:
    return 0 if call.endpoint.name in _FILE_BODIES else call.size


def completion_bound(call: Admissible, completion_reserve: int) -> int:
    """Completion tokens reserved for all of the call's answers."""
    if call.endpoint.name in _NO_COMPLETION:
        return 0
    per_answer = call.max_tokens or call.model.max_tokens or completion_reserve
    return per_answer * call.n


def token_reservation(call: Admissible, completion_reserve: int) -> int:
    """Tokens held against tokens-per-minute limits while the call runs."""
    return -(-prompt_bound(call) // 4) + completion_bound(call, completion_reserve)


def reservation_nano(call: Admissible, completion_reserve: int) -> int:
    """The reservation in nano-USD, rounded up."""
    images = call.n if call.endpoint.name.startswith("images.") else 0
    return reserve_nano(call.model, prompt_bound(call), completion_bound(call, completion_reserve), images)
