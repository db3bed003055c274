"""The data plane: the OpenAI-compatible API under /v3/router (and /v2/router)."""
