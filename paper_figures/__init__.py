"""Scripts that regenerate the paper's figures from the derived dynamics."""
