"""LaTeX documents of every derived object, in the exact and the paper style."""
