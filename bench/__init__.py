"""Benchmark harness: a fast fake upstream, called directly and through relaygate (`python -m bench`)."""
