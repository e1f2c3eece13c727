"""Adapters: implementations of the ports for one machine and for the cloud."""
