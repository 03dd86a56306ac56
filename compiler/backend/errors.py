"""The backend's one exception type."""

from t2m.compiler.errors import T2MError


class BackendError(T2MError):
    """A failure the user can act on: bad target or level name, invalid IR, unreadable object.

    The message is a single line (``what, at where; hint``) so a command-line tool can print it as is.
    """

    def __init__(self, message: str):
        super().__init__(message)
