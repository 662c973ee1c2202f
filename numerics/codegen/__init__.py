"""Code generation: derived recursions printed as NumPy, mpmath and C source.

One generator interface (:func:`kernel_expressions` prepares a recursion once;
each backend prints it), several printers, and :func:`write_sources` writing
the checked-in files under ``numerics/generated/``.
"""

from sparsemom.numerics.codegen.expressions import KernelExpressions, kernel_expressions
from sparsemom.numerics.codegen.sources import (
                      GENERATED_DIR,
                      generated_files,
                      module_name,
                      source_checkout,
                      stale_sources,
                      write_sources,
)

__all__ = ["KernelExpressions", "kernel_expressions", "GENERATED_DIR", "generated_files",
           "module_name", "source_checkout", "stale_sources", "write_sources"]
