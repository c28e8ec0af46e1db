"""Errors users see. The CLI prints `str(err)` in one line (no traceback unless --debug)."""


class MicroforgeError(Exception):
    """Base class for every error that is the user's input, not our bug."""


class ModelFormatError(MicroforgeError):
    """The file is not a model we can read: truncated, malformed or of the wrong kind."""


class UnsupportedModelError(MicroforgeError):
    """The model uses ops, types or shapes we do not support. Lists every offender."""


class ToolchainError(MicroforgeError):
    """A compiler or emulator is missing or failed."""


class BudgetError(MicroforgeError):
    """The model does not fit the target's memory budget."""
