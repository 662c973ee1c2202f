"""``python -m numerics.cli``: the ``sparsemom`` command."""

import sys

from numerics.cli.main import main

sys.exit(main())
