"""The Cloudflare Workers AI adapter: settings, wire formats, error taxonomy and the provider.

Import the module you need (`settings`, `provider`): the package itself imports nothing, so reading the
settings does not load httpx and Pillow.
"""
