"""crossalign.models."""
