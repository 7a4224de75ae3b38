"""Kernel: clock, ids, errors and logging shared by every layer."""
