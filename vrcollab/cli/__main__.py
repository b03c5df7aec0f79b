"""``python -m vrcollab.cli ...`` runs the CLI (:func:`vrcollab.cli.main`)."""

import sys

from vrcollab.cli import main

sys.exit(main())
