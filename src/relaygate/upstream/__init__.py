"""Talking to upstreams: the pooled transport, the SSRF guard and the probe."""
