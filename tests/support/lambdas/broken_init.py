"""A handler module that fails while it is imported: the Init phase fails."""

raise RuntimeError("configuration missing")


def handler(event: object, context: object) -> None:  # pragma: no cover - never reached
    return None
