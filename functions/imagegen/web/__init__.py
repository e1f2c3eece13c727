"""HTTP edges: bearer auth, the local Starlette app, the discovery page and client configs."""
