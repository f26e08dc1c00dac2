"""crossalign.reports."""
