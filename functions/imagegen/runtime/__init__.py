"""Composition roots: build the services and adapters for one runtime (local server, AWS Lambda)."""
