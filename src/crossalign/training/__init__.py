"""crossalign.training."""
