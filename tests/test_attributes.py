"""markup/attributes.py: which attributes HTML allows on which element, and which values."""

from __future__ import annotations

import pytest

from ebook_builder.markup.attributes import allowed, element_problem, value_problem


@pytest.mark.parametrize(
    ("element", "attribute", "linked", "expected"),
    [
        ("span", "class", True, True),
        ("span", "aria-label", True, True),
        ("span", "data-x", True, True),
        ("span", "property", True, True),  # RDFa, which EPUB 3 allows
        ("span", "target", True, False),
        ("span", "href", True, False),
        ("td", "colspan", True, True),
        ("td", "width", True, False),
        ("th", "abbr", True, False),  # HTML has it; EPUBCheck 5.3 refuses it
        ("a", "target", True, True),
        ("a", "target", False, False),  # HTML: no target without an href
        ("a", "rev", True, False),
        ("img", "width", True, True),
    ],
)
def test_allowed(element, attribute, linked, expected):
    assert allowed(element, attribute, linked) is expected


@pytest.mark.parametrize(
    ("element", "attribute", "value", "refused"),
    [
        ("span", "dir", "rtl", False),
        ("span", "dir", "RTL", True),  # EPUBCheck's schema takes the keywords as written
        ("span", "translate", "", False),
        ("span", "lang", "fr-CA", False),
        ("span", "lang", "", False),
        ("span", "lang", "français", True),
        ("span", "tabindex", "-1", False),
        ("span", "id", "a b", True),
        ("ol", "reversed", "reversed", False),
        ("ol", "reversed", "true", True),
        ("ol", "type", "i", False),
        ("ol", "type", "disc", True),
        ("img", "width", "120", False),
        ("img", "width", "120px", True),
        ("a", "type", "text/html; charset=utf-8", False),
        ("a", "type", "html", True),
        ("th", "scope", "col", False),
        ("span", "title", "anything at all", False),
        ("time", "datetime", "1851-10-18", False),
        ("time", "datetime", "1851", False),
        ("time", "datetime", "--10-18", False),
        ("time", "datetime", "1851-10-18T09:30+01:00", False),
        ("time", "datetime", "PT4H18M", False),
        ("time", "datetime", "4H 18M", False),
        ("time", "datetime", "yesterday", True),
        ("time", "datetime", "4h 18m", True),  # EPUBCheck's schema takes upper-case units only
        ("time", "datetime", "Z", True),  # HTML's, but not EPUBCheck's
        ("del", "datetime", "1851-10-18T09:30Z", False),
        ("del", "datetime", "1851", True),
    ],
)
def test_value_problem(element, attribute, value, refused):
    assert (value_problem(element, attribute, value) is not None) is refused


@pytest.mark.parametrize(
    ("name", "problem"),
    [("p", None), ("rb", None), ("center", "obsolete"), ("P", "lower case"), ("x-card", "unknown")],
)
def test_element_problem(name, problem):
    found = element_problem(name)
    assert found is None if problem is None else problem in found
