"""The tools, grouped by what they do; each group adds its tools to a server with `register`.

No module here uses `from __future__ import annotations`: the MCP SDK reads each tool's signature to
build its input and output schemas, and some annotations name values made inside `register`.
"""
