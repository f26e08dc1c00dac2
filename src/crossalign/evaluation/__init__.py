"""crossalign.evaluation."""
