"""Whitespace folding: the quick `fold_space` folds exactly as HTML's rule does."""

import random

from ebook_builder.markup.xhtml import HTML_SPACE, fold_space


def test_fold_space_folds_as_the_html_rule():
    pick = random.Random(3)
    alphabet = " \t\n\r\f\u00a0\u202fab"  # no-break spaces are text, not whitespace
    for _ in range(5000):
        text = "".join(pick.choice(alphabet) for _ in range(pick.randrange(30)))
        assert fold_space(text) == HTML_SPACE.sub(" ", text), repr(text)
