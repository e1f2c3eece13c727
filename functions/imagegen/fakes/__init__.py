"""Local stand-ins for outside services, for tests, demos and offline development. Never used in production."""
