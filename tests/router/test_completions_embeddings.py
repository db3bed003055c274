"""Legacy completions and embeddings through relaygate."""

from __future__ import annotations

import base64
import struct

from support.server import Workspace
from upstream import FakeUpstream


def test_completions_unary_and_stream(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "gpt-test", provider="legacy", model_type="completion")
    client = workspace.client()
    completion = client.completions.create(model="legacy/gpt-test", prompt="Once upon")
    assert completion.model == "legacy/gpt-test"
    assert completion.choices[0].text
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    chunks = list(client.completions.create(model="legacy/gpt-test", prompt="Once upon", stream=True))
    assert chunks
    assert all(chunk.model == "legacy/gpt-test" for chunk in chunks)
    assert "".join(chunk.choices[0].text for chunk in chunks if chunk.choices) == completion.choices[0].text
    assert all(chunk.usage is None for chunk in chunks)


def test_embeddings_float_and_base64(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "embed-test", provider="emb", model_type="embedding")
    client = workspace.client()
    floats = client.embeddings.create(model="emb/embed-test", input=["a", "b"], encoding_format="float")
    assert floats.model == "emb/embed-test"
    assert len(floats.data) == 2
    assert len(floats.data[0].embedding) > 0
    raw = workspace.api(
        "POST",
        "/v3/router/embeddings",
        json={"model": "emb/embed-test", "input": ["a", "b"], "encoding_format": "base64"},
    ).json()
    packed = base64.b64decode(raw["data"][0]["embedding"])
    decoded = list(struct.unpack(f"<{len(packed) // 4}f", packed))
    assert decoded == floats.data[0].embedding
    # The SDK asks for base64 by default and decodes it itself.
    sdk_default = client.embeddings.create(model="emb/embed-test", input=["a", "b"])
    assert sdk_default.data[0].embedding == floats.data[0].embedding
