"""Errors users see. The CLI prints `str(err)` in one line (no traceback unless --debug)."""


class MicroforgeError(Exception):
    """Base class for every error that is the user's input, not our bug."""


class ModelFormatError(MicroforgeError):
    """The file is not a model we can read: truncated, malformed or of the wrong kind."""


class UnsupportedModelError(MicroforgeError):
    """The model uses ops, types or shapes we do not support. Lists every offender."""

    def __init__(self, message: str, nodes: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.nodes = list(nodes or [])  # (node name, op type) of every unsupported node

    @classmethod
    def for_nodes(cls, where: str, nodes: list[tuple[str, str]]) -> "UnsupportedModelError":
        """One message naming every unsupported node, grouped by op type."""
        by_type: dict[str, list[str]] = {}
        for name, op_type in nodes:
            by_type.setdefault(op_type, []).append(repr(name))
        groups = "; ".join(f"{t} x{len(ns)}: {', '.join(ns)}" for t, ns in by_type.items())
        return cls(f"{where}: {len(nodes)} unsupported node(s) [{', '.join(by_type)}]: {groups}", nodes)


class ToolchainError(MicroforgeError):
    """A compiler or emulator is missing or failed."""


class BudgetError(MicroforgeError):
    """The model does not fit the target's memory budget (over by ram_over / flash_over bytes; 0: that fits)."""

    def __init__(self, message: str, ram_over: int = 0, flash_over: int = 0):
        super().__init__(message)
        self.ram_over = ram_over
        self.flash_over = flash_over
