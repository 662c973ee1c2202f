"""``python -m sparsemom.numerics.cli``: the ``sparsemom`` command."""

import sys

from sparsemom.numerics.cli.main import main

sys.exit(main())
