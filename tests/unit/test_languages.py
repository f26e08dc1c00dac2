from __future__ import annotations

import pytest

from crossalign.errors import UnknownLanguageError
from crossalign.languages import get_language, mteb_code, normalize_lang, parse_lang_list


@pytest.mark.parametrize(
    ("raw", "canon"),
    [
        ("de", "de"),
        ("DE", "de"),
        ("zh_cn", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("pt_br", "pt-BR"),
        ("en-US", "en"),
        ("en_gb", "en-GB"),
        ("sr_latn", "sr-Latn"),
        ("de-at", "de-AT"),
        (" km ", "km"),
    ],
)
def test_normalize_lang_canonicalises(raw: str, canon: str) -> None:
    assert normalize_lang(raw) == canon


@pytest.mark.parametrize("bad", ["xx", "", "  ", "english", "de--", "12"])
def test_unknown_codes_are_rejected_with_the_known_list(bad: str) -> None:
    with pytest.raises(UnknownLanguageError) as info:
        normalize_lang(bad, field="--langs")
    text = str(info.value)
    assert "--langs" in text
    assert "zh-CN" in text  # the message lists what is known


def test_available_restricts_and_lists_choices() -> None:
    assert normalize_lang("ZH_CN", available=["de", "zh-CN"]) == "zh-CN"
    with pytest.raises(UnknownLanguageError) as info:
        normalize_lang("fr", available=["de", "zh-CN"])
    assert "de, zh-CN" in str(info.value)


def test_parse_lang_list_keeps_order_and_drops_duplicates() -> None:
    assert parse_lang_list("de, zh_cn,DE,hi") == ["de", "zh-CN", "hi"]
    assert parse_lang_list(["km", "en-US"]) == ["km", "en"]
    with pytest.raises(UnknownLanguageError):
        parse_lang_list(" , ")


def test_mteb_codes_and_variants() -> None:
    assert mteb_code("de") == "deu-Latn"
    assert mteb_code("zh-TW") == "cmn-Hant"
    assert mteb_code("zh-CN") == "cmn-Hans"
    assert get_language("de-AT").iso639_3 == "deu"
    assert get_language("sr-Latn").script == "Latn"
    assert get_language("sr").script == "Cyrl"
