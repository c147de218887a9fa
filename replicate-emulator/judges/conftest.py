"""Root of the Python judges: makes the shared helpers in this folder importable."""
