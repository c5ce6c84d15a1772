"""``python -m hpsweep`` runs the command line."""

import sys

from hpsweep.cli.main import main

sys.exit(main())
