"""Modal screens of the watch console, one per module."""
