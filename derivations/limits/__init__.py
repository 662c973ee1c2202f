"""High-dimensional limits by dominant balance, their regions and phase diagram."""
