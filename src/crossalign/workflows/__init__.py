"""crossalign.workflows."""
