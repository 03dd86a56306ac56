"""Exceptions of the emulator: every failure is one readable line, never a raw unicorn traceback."""


class EmulatorError(Exception):
    """A run failed: memory fault, invalid instruction, CPU exception or runaway code."""


class LoadError(EmulatorError):
    """An object file cannot be loaded: wrong machine, bad relocation, undefined symbol."""
