"""Feeds: read stealer-log archives, ULP text bases, breach corpora and exposure APIs."""
