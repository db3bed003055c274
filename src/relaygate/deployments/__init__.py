"""Deployments: named, versioned prompt-and-model configurations applications invoke by key."""
