"""Integrations with other Django packages, each behind its own optional extra."""
