"""``python -m refmodel``: the reference model's command line (:mod:`refmodel.cli`)."""

import sys

from refmodel.cli import main

sys.exit(main())
