"""Helpers shared by the figure modules: instrumented providers and stores, helper processes."""
