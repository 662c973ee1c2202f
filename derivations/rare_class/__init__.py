"""The rare-class logistic law (model M2): its statistics, their mean-field map and
linearisation, and the law that closes through them."""
