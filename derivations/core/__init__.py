"""The algebra every derivation shares: symbols, linear vectors and inner products, printing
forms, exact arithmetic in the field of parameters."""
