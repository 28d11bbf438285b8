"""Domain errors for access decisions: services raise these; only the web layer knows they become 404 or 403."""


class NotFound(Exception):
    """No such thing, or not one the viewer may know exists (answered as 404 so existence never leaks)."""


class NotAllowed(Exception):
    """The viewer may know the thing exists but not do this to it (answered as 403)."""


def not_found() -> NotFound:
    """The error to raise for anything missing or hidden."""
    return NotFound()
