"""Generated kernels (see numerics/codegen). Do not edit."""
