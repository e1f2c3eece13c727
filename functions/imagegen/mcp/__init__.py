"""The MCP server definition shared by the local server and the Lambda API handler."""
