"""Cortex-M4 emulator (unicorn) with the estimated-cycle model."""
