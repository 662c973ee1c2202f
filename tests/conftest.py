"""Test session setup: compiled kernels go to a private cache, not the user's."""

import os
import tempfile

_CACHE = tempfile.mkdtemp(prefix="sparsemom-test-kernels-")
os.environ["SPARSEMOM_CACHE_DIR"] = _CACHE
