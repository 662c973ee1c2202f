"""Properties of a recursion: closed forms, stability, timescales, oscillation."""
