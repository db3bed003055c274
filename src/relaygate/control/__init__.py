"""The control plane: the /v2 JSON API for models, keys and health."""
