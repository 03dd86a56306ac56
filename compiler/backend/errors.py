"""The backend's one exception type."""


class BackendError(Exception):
    """A failure the user can act on: bad target or level name, invalid IR, unreadable object.

    The message is a single line (``what, at where; hint``) so a command-line tool can print it as is.
    """
