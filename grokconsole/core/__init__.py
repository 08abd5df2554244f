"""Pure-Python core: run folders, histories, lifecycle, discovery, grokking detection.

Nothing in this package imports torch, textual or matplotlib (a test enforces it).
numpy and scipy are imported lazily, inside the functions that need them.
"""
