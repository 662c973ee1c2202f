"""The engine: the batch expectation over a law's ingredients, the moment recursion of a law
under a rule, and the caches keyed by definitions."""
