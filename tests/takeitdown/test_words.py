"""The take-it-down page's words: every language says everything, placeholders intact; a language the
organisation lists without words is a clear error at start-up, not a page with holes."""

import re

import pytest

from vigil.errors import VigilError
from vigil.web.takeitdown_pages import catalog, languages


def test_every_language_has_every_key_and_the_same_placeholders():
    words = catalog()
    english = words["en"]
    for code, table in words.items():
        assert set(table) == set(english), code
        for key, text in table.items():
            assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", english[key])), (
                code,
                key,
            )


def test_languages_setting_is_checked():
    assert languages(" NL, en ") == ["nl", "en"]
    assert languages("") == ["en"]
    with pytest.raises(VigilError, match="VIGIL_TAKEITDOWN_LANGUAGES: no words for 'xx'"):
        languages("en,xx")
