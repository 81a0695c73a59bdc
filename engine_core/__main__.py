"""``python -m engine_core`` runs the ``layerlens`` CLI."""

import sys

from engine_core.cli import main

sys.exit(main())
