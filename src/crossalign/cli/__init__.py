"""The crossalign command line (see crossalign.cli.main)."""
