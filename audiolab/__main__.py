"""``python -m audiolab``: the same as the ``audiolab`` command."""

import sys

from audiolab.ui.cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess
    sys.exit(main())
