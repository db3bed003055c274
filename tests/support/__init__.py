"""Helpers shared by relaygate's tests: a real relaygate server process and its clients."""
