"""crossalign.losses."""
