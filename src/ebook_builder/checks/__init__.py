"""Checks that judge a built book: the stores' rules and the accessibility claims."""
