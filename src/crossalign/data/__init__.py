"""crossalign.data."""
