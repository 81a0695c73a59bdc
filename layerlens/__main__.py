"""``python -m layerlens`` runs the ``layerlens`` CLI."""

import sys

from layerlens.cli import main

sys.exit(main())
