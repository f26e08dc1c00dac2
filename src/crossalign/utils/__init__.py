"""Small shared helpers: atomic writes and locks, cache locations, optional dependencies, progress."""
