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
