"""imagegen: a remote MCP server for AI image generation (Workers AI + R2, on AWS or one machine)."""

__version__ = "0.1.0"
