"""Results as data: arrays with the names of what they hold and the parameters that
produced them, convertible to labelled tables (``to_dataframe()``)."""
