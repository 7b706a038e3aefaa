"""Scratch pytest plugin: a stand-in `wordml` that is pandoc itself (determinism check)."""
import sys
import types

module = types.ModuleType("ebook_builder.formats.wordml")


def word_parts(tree):
    from tests.test_wordml import pandoc_parts

    return pandoc_parts(tree)


module.word_parts = word_parts
sys.modules["ebook_builder.formats.wordml"] = module
