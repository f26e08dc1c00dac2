"""Language mapping of the LibreOffice help: canonical tags <-> Debian packages <-> help folders."""

from __future__ import annotations

import pytest

from crossalign.data.libreoffice.langs import (
    LIBREOFFICE_LANGUAGES,
    UNSPACED_LANGUAGES,
    help_folder,
    is_english,
    lo_lang,
    lo_lang_list,
    package_name,
)
from crossalign.errors import UnknownLanguageError
from crossalign.languages import LANGUAGES, normalize_lang


def test_the_33_debian_languages_are_canonical_known_tags() -> None:
    assert len(LIBREOFFICE_LANGUAGES) == 33
    assert len(set(LIBREOFFICE_LANGUAGES)) == 33
    for tag in LIBREOFFICE_LANGUAGES:
        assert tag in LANGUAGES
        assert normalize_lang(tag) == tag
    assert {"en", "en-GB", "pt", "pt-BR", "zh-CN", "zh-TW", "km", "dz", "om"} <= set(LIBREOFFICE_LANGUAGES)
    assert set(UNSPACED_LANGUAGES) == {"zh-CN", "zh-TW", "ja", "km", "dz"}


@pytest.mark.parametrize(
    ("tag", "package", "folder"),
    [
        ("en", "libreoffice-help-en-us", "en-US"),
        ("en-GB", "libreoffice-help-en-gb", "en-GB"),
        ("zh-CN", "libreoffice-help-zh-cn", "zh-CN"),
        ("zh-TW", "libreoffice-help-zh-tw", "zh-TW"),
        ("pt-BR", "libreoffice-help-pt-br", "pt-BR"),
        ("pt", "libreoffice-help-pt", "pt"),
        ("de", "libreoffice-help-de", "de"),
        ("km", "libreoffice-help-km", "km"),
    ],
)
def test_tag_package_folder_round_trip(tag: str, package: str, folder: str) -> None:
    assert package_name(tag) == package
    assert help_folder(tag) == folder
    assert lo_lang(package) == tag
    assert lo_lang(folder) == tag


@pytest.mark.parametrize(
    ("spelling", "tag"),
    [("EN-us", "en"), ("en_US", "en"), ("zh_cn", "zh-CN"), ("PT-br", "pt-BR"), (" de ", "de"), ("en-gb", "en-GB")],
)
def test_spellings_normalise(spelling: str, tag: str) -> None:
    assert lo_lang(spelling) == tag


@pytest.mark.parametrize("code", ["xx", "zh", "sw", "libreoffice-help-xx", ""])
def test_unknown_or_unsupported_code_lists_the_available_languages(code: str) -> None:
    with pytest.raises(UnknownLanguageError) as info:
        lo_lang(code, field="--langs")
    msg = str(info.value)
    assert f"{code!r} is not a language of the LibreOffice help" in msg
    assert "choose from the 33 languages: ca, cs, da, de, dz" in msg
    assert "zh-CN, zh-TW" in msg
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("code", ["sk", "SK", "libreoffice-help-sk"])
def test_slovak_is_not_offered_and_the_error_says_why(code: str) -> None:
    assert "sk" not in LIBREOFFICE_LANGUAGES
    with pytest.raises(UnknownLanguageError) as info:
        lo_lang(code)
    assert f"{code!r} is not offered: Debian's libreoffice-help-sk contains no Slovak help" in str(info.value)
    assert "link to the Czech one (cs)" in str(info.value)
    assert lo_lang("cs") == "cs"


def test_lang_list_keeps_order_drops_duplicates_and_expands_all() -> None:
    assert lo_lang_list("de, zh_cn,DE,en-US") == ["de", "zh-CN", "en"]
    assert lo_lang_list(["km", "libreoffice-help-hi"]) == ["km", "hi"]
    assert lo_lang_list("all") == list(LIBREOFFICE_LANGUAGES)
    with pytest.raises(UnknownLanguageError, match="no language given"):
        lo_lang_list(" , ")
    with pytest.raises(UnknownLanguageError, match="'tlh'"):
        lo_lang_list("de,tlh")


def test_is_english_covers_both_english_variants_only() -> None:
    assert is_english("en") and is_english("en-GB")
    assert not is_english("de") and not is_english("eu")
