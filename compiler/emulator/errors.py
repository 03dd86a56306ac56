"""Exceptions of the emulator: every failure is one readable line, never a raw unicorn traceback."""

from t2m.compiler.errors import T2MError


class EmulatorError(T2MError):
    """A run failed: memory fault, invalid instruction, CPU exception or runaway code."""

    def __init__(self, message: str):
        super().__init__(message)


class LoadError(EmulatorError):
    """An object file cannot be loaded: wrong machine, bad relocation, undefined symbol."""


class InstructionLimitError(EmulatorError):
    """A run used up its instruction budget: runaway code, or a model larger than the budget allows. The tools
    turn it into an error naming their option (`--max-instructions`)."""

    def __init__(self, message: str, limit: int, where: str):
        super().__init__(message)
        self.limit, self.where = limit, where
