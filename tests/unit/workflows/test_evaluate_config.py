"""EvaluateConfig: every evaluation setting parsed and checked once, errors that name the field."""

from __future__ import annotations

import dataclasses

import pytest

from crossalign.errors import ConfigError, UnknownLanguageError
from crossalign.workflows.evaluate import DEFAULT_EVAL_LANGS, EvaluateConfig


def test_parsed_once_to_canonical_values() -> None:
    cfg = EvaluateConfig(suites="bitext, mixed-pool", langs="de, zh-cn", metrics="ndcg@10,recall@100")
    assert cfg.suites == ["mixed-pool", "inclination", "bitext"]
    assert cfg.langs == ["de", "zh-CN"]
    assert cfg.metrics == ["ndcg@10", "recall@100"]
    assert cfg.holdout_langs == []  # None: no panel
    assert cfg.data == []


def test_default_langs_depend_on_data() -> None:
    assert EvaluateConfig().langs == list(DEFAULT_EVAL_LANGS)
    assert EvaluateConfig(data="my-set/").langs == []
    assert EvaluateConfig(data="my-set/").data == ["my-set/"]


def test_holdout_default_excludes_the_evaluated_langs_and_replace_is_idempotent() -> None:
    cfg = EvaluateConfig(langs="ja,de", holdout_langs="default")
    assert "ja" not in cfg.holdout_langs and cfg.holdout_langs
    again = dataclasses.replace(cfg, batch_size=8)
    assert again.holdout_langs == cfg.holdout_langs and again.langs == cfg.langs and again.batch_size == 8
    assert EvaluateConfig(langs="de", holdout_langs="none").holdout_langs == []


def test_sts_named_survives_replace() -> None:
    assert EvaluateConfig(suites="all").sts_named is False
    assert dataclasses.replace(EvaluateConfig(suites="all"), seed=1).sts_named is False
    assert EvaluateConfig(suites="retrieval,sts").sts_named is True


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("batch_size", 0, "batch_size"),
        ("max_sections", -3, "max_sections"),
        ("bitext_distractors", -1, "bitext_distractors"),
        ("seed", 1.5, "seed"),
        ("trec_depth", 0, "trec_depth"),
        ("holdout_size", True, "holdout_size"),
        ("long_text", "chop", "long_text"),
        ("suites", "retreival", "unknown suite"),
        ("metrics", "ndcg@ten", "ndcg"),
    ],
)
def test_bad_field_is_named(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EvaluateConfig(**{field: value})


def test_bad_language_and_unknown_option() -> None:
    with pytest.raises(UnknownLanguageError):
        EvaluateConfig(langs="xx-nope")
    with pytest.raises(ConfigError, match="holdout"):
        EvaluateConfig(langs="de", holdout_langs="de")
    with pytest.raises(ConfigError, match="did you mean 'max_sections'"):
        EvaluateConfig.from_options(max_section=3)
    base = EvaluateConfig(langs="de")
    assert EvaluateConfig.from_options(base, seed=7).seed == 7 and base.seed == 13


def test_non_english_pairs_parsed_once_with_canonical_tags() -> None:
    langs = "de,zh-CN,eu,km"
    assert EvaluateConfig(langs=langs).non_english_pairs == "auto"
    assert EvaluateConfig(langs=langs, non_english_pairs="de:zh_cn, eu:KM").non_english_pairs == (
        ("de", "zh-CN"),
        ("eu", "km"),
    )
    assert EvaluateConfig(langs=langs, non_english_pairs="6").non_english_pairs == 6
    assert EvaluateConfig(langs=langs, non_english_pairs="none").non_english_pairs == ()
    # replace keeps the parsed value, and a change of languages is checked again
    cfg = EvaluateConfig(langs=langs, non_english_pairs=6)
    assert dataclasses.replace(cfg, seed=3).non_english_pairs == 6
    with pytest.raises(ConfigError, match=r"4 non-English languages .* at most 6 pairs"):
        EvaluateConfig(langs=langs, non_english_pairs=7)
    with pytest.raises(ConfigError, match="at most 3 pairs"):
        EvaluateConfig.from_options(cfg, langs="de,zh-CN,eu")


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("de:ja", ConfigError, "de:ja names ja, not among the evaluated languages"),
        ("de:en", ConfigError, "de:en includes English"),
        ("de-zh-CN", ConfigError, "is not a \\(source, target\\) pair"),
        ("de:xx-nope", UnknownLanguageError, "non_english_pairs: 'xx-nope' is not a language of the LibreOffice help"),
    ],
)
def test_bad_non_english_pairs_are_named(value: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        EvaluateConfig(langs="de,zh-CN,eu,km", non_english_pairs=value)


def test_non_english_pairs_need_libreoffice_languages() -> None:
    with pytest.raises(ConfigError, match="no LibreOffice language is evaluated"):
        EvaluateConfig(data="my-set/", non_english_pairs="de:km")
    assert EvaluateConfig(data="my-set/").non_english_pairs == "auto"  # the default is fine without languages
