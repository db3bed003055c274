"""Defences that do not belong to one plane: the bounded HTTP parser, master-key rotation."""
