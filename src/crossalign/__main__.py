"""``python -m crossalign`` runs the CLI."""

import sys

from crossalign.cli.main import main

sys.exit(main())
