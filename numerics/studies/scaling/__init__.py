"""Scaling-law studies of Gaussian data with a power-law spectrum, from exact curves."""
