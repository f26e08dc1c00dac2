"""Standard public cross-lingual benchmarks by name, as crossalign's canonical evaluation sets.

``load_benchmark("belebele", langs="de,zh-CN")`` reads the benchmark from the Hugging Face hub (``datasets.
load_dataset`` with the registry's hub id and revision) or from a local copy in the hub's layout (``path=``), and
turns it into :class:`~crossalign.data.eval_sets.EvalSet` objects that the existing evaluators run on:
``retrieval`` sets with explicit ``query_lang``/``doc_lang`` (and ``mixed-pool`` sets) for question → passage
benchmarks, ``bitext`` sets for sentence-alignment benchmarks. ``crossalign evaluate --benchmark NAME[:LANGS]`` is
the same from the command line.

The registry (:data:`BENCHMARKS`) describes each benchmark in the manner of MTEB's task metadata: name, hub id,
revision, languages, task type and the crossalign suites and evaluators it feeds, split, licence, citation.
:func:`benchmark_table` renders it (the README's table is generated from it).

Languages are crossalign's BCP-47 tags (``de``, ``zh-CN``) or the benchmark's own configuration names (``deu_Latn``,
``deu-eng``); English is the pivot and always loaded. An MTEB task goes through ``mteb`` itself:
``load_benchmark("mteb:Tatoeba", langs="deu-eng")`` (:mod:`crossalign.data.benchmarks.mteb_tasks`).

Example:
    >>> bench = load_benchmark("tatoeba", langs="de,km")  # doctest: +SKIP
    >>> [(s.suite, s.name) for s in bench.sets]  # doctest: +SKIP
    [('bitext', 'tatoeba/de-en'), ('bitext', 'tatoeba/km-en')]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crossalign.data.benchmarks import loaders
from crossalign.data.benchmarks.hub import HubSource
from crossalign.data.eval_sets import DEFAULT_EVAL_LANGS, EvalSet
from crossalign.errors import ConfigError, UnknownLanguageError
from crossalign.languages import from_iso639_3, get_language, normalize_lang

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "BenchmarkInfo",
    "benchmark_table",
    "load_benchmark",
    "parse_benchmark_spec",
]

Loader = Callable[[HubSource, Mapping[str, str], str, str], list[EvalSet]]
_EVALUATORS = {"retrieval": "RetrievalEvaluator", "mixed-pool": "MixedPoolEvaluator", "bitext": "BitextEvaluator"}


@dataclass(frozen=True)
class BenchmarkInfo:
    """What a benchmark is and how crossalign reads it (in the manner of MTEB's ``TaskMetadata``).

    Attributes:
        name: The name ``--benchmark`` takes (``belebele``).
        title: Its usual name (``Belebele``).
        hub_id: The Hugging Face dataset it is read from.
        revision: The hub commit read by default (None: the default branch; the results record which).
        task_type: MTEB's task type: ``Retrieval`` or ``BitextMining`` (default: ``BitextMining`` for bitext
            suites, else ``Retrieval``).
        suites: The crossalign suites its sets belong to.
        split: The split evaluated by default; ``splits``: all it has (default: ``split`` alone).
        configs: The benchmark's configuration name of each language crossalign knows (``{"de": "deu_Latn"}``);
            empty when derived from the tag by ``config_of``.
        config_of: Tag -> configuration name, for benchmarks whose configurations are too many to list.
        default_langs: Languages loaded when none are given (besides English; default: crossalign's evaluation
            languages).
        license: Licence of the data.
        citation: BibTeX of the paper to cite.
        reference: Where the benchmark is described.
        mteb_task: The MTEB task over the same data, if any.
        description: One sentence on what is measured.
        loader: Reads a split into evaluation sets.
    """

    name: str
    title: str
    hub_id: str
    suites: tuple[str, ...]
    license: str
    citation: str
    reference: str
    description: str
    loader: Loader = field(repr=False)
    revision: str | None = None
    task_type: str = ""
    split: str = "test"
    splits: tuple[str, ...] = ()
    default_langs: tuple[str, ...] = DEFAULT_EVAL_LANGS
    configs: Mapping[str, str] = field(default_factory=dict, repr=False)
    config_of: Callable[[str], str] | None = field(default=None, repr=False)
    mteb_task: str | None = None

    def __post_init__(self) -> None:
        if not self.task_type:
            object.__setattr__(self, "task_type", "BitextMining" if "bitext" in self.suites else "Retrieval")
        if not self.splits:
            object.__setattr__(self, "splits", (self.split,))

    @property
    def evaluators(self) -> tuple[str, ...]:
        """The crossalign evaluators that score its suites."""
        return tuple(_EVALUATORS[s] for s in self.suites)

    @property
    def languages(self) -> list[str]:
        """The crossalign tags of the languages it offers (all FLORES+ languages crossalign knows when derived)."""
        return sorted(self.configs) if self.configs else []

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata (recorded in the results)."""
        keys = ("name", "title", "hub_id", "revision", "task_type", "suites", "evaluators", "split", "license",
                "reference", "mteb_task")  # fmt: skip
        return {**{k: getattr(self, k) for k in keys}, "suites": list(self.suites), "evaluators": list(self.evaluators)}


@dataclass
class Benchmark:
    """A loaded benchmark: its evaluation sets and where they came from.

    Attributes:
        info: The registry entry (for ``mteb:`` tasks, one built from the task's metadata).
        langs: The languages loaded (crossalign tags, English first) and their configuration names.
        split: The split read.
        sets: The evaluation sets, each with its suite.
        source: Hub id and revision, or the local copy.
    """

    info: BenchmarkInfo
    langs: dict[str, str]
    split: str
    sets: list[EvalSet]
    source: dict[str, Any]

    @property
    def name(self) -> str:
        """``<name>`` or ``<name>:<langs>``, as ``--benchmark`` would name it."""
        return self.info.name

    def describe(self) -> dict[str, Any]:
        """JSON-ready provenance: metadata, source, split, languages and every set's summary."""
        return {
            **self.info.to_dict(),
            "source": self.source,
            "split": self.split,
            "langs": dict(self.langs),
            "sets": {s.name: s.describe() for s in self.sets},
        }


def _configs(codes: Iterable[str], to_tag: Callable[[str], str | None]) -> dict[str, str]:
    out: dict[str, str] = {}
    for code in codes:
        tag = to_tag(code)
        if tag is not None and tag not in out:
            out[tag] = code
    return out


def _flores_config(tag: str) -> str:
    lang = get_language(tag)
    script = {"Kore": "Hang"}.get(lang.script, lang.script)
    return f"{lang.iso639_3}_{script}"


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ISO 639-3 + script configuration names, as each benchmark spells them (facts from the datasets' cards).
_BELEBELE_CODES = _codes(
    "acm_Arab afr_Latn als_Latn amh_Ethi apc_Arab arb_Arab arb_Latn ars_Arab ary_Arab arz_Arab asm_Beng azj_Latn "
    "bam_Latn ben_Beng ben_Latn bod_Tibt bul_Cyrl cat_Latn ceb_Latn ces_Latn ckb_Arab dan_Latn deu_Latn ell_Grek "
    "eng_Latn est_Latn eus_Latn fin_Latn fra_Latn fuv_Latn gaz_Latn grn_Latn guj_Gujr hat_Latn hau_Latn heb_Hebr "
    "hin_Deva hin_Latn hrv_Latn hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn jpn_Jpan "
    "kac_Latn kan_Knda kat_Geor kaz_Cyrl kea_Latn khk_Cyrl khm_Khmr kin_Latn kir_Cyrl kor_Hang lao_Laoo lin_Latn "
    "lit_Latn lug_Latn luo_Latn lvs_Latn mal_Mlym mar_Deva mkd_Cyrl mlt_Latn mri_Latn mya_Mymr nld_Latn nob_Latn "
    "npi_Deva npi_Latn nso_Latn nya_Latn ory_Orya pan_Guru pbt_Arab pes_Arab plt_Latn pol_Latn por_Latn ron_Latn "
    "rus_Cyrl shn_Mymr sin_Latn sin_Sinh slk_Latn slv_Latn sna_Latn snd_Arab som_Latn sot_Latn spa_Latn srp_Cyrl "
    "ssw_Latn sun_Latn swe_Latn swh_Latn tam_Taml tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi tsn_Latn tso_Latn "
    "tur_Latn ukr_Cyrl urd_Arab urd_Latn uzn_Latn vie_Latn war_Latn wol_Latn xho_Latn yor_Latn zho_Hans zho_Hant "
    "zsm_Latn zul_Latn"
)
_TATOEBA_CODES = _codes(
    "sqi fry kur tur deu nld ron ang ido jav isl slv cym kaz est heb gla mar lat bel pms gle pes nob bul cbk hun "
    "uig rus spa hye tel afr mon arz hrv nov gsw nds ukr uzb lit ina lfn zsm ita cmn lvs glg ceb bre ben swg arq "
    "kab fra por tat oci pol war aze vie nno cha mhr dan ell amh pam hsb srp epo kzj awa fao mal ile bos cor cat "
    "eus yue swe dtp kat jpn csb xho orv ind tuk max swh hin dsb ber tam slk tgl ast mkd khm ces tzl urd ara kor "
    "yid fin tha wuu"
)
_XQUAD_R_CODES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
_MLQA_CODES = ("ar", "de", "en", "es", "hi", "vi", "zh")
_BUCC_CODES = {"de": "de-en", "fr": "fr-en", "ru": "ru-en", "zh-CN": "zh-en"}


def _tatoeba_tag(code: str) -> str | None:
    return "zh-CN" if code == "cmn" else from_iso639_3(code)


def _two_letter_tag(code: str) -> str:
    return "zh-CN" if code == "zh" else normalize_lang(code)


BENCHMARKS: dict[str, BenchmarkInfo] = {
    info.name: info
    for info in (
        BenchmarkInfo(
            name="belebele",
            title="Belebele",
            hub_id="facebook/belebele",
            suites=("retrieval", "mixed-pool"),
            configs={**_configs(_BELEBELE_CODES, from_iso639_3), "en": "eng_Latn"},
            license="cc-by-sa-4.0",
            citation="@article{bandarkar2023belebele, title={The Belebele Benchmark: a Parallel Reading Comprehension "
            "Dataset in 122 Language Variants}, author={Bandarkar, Lucas and others}, journal={arXiv:2308.16884}, "
            "year={2023}}",
            reference="https://arxiv.org/abs/2308.16884",
            description="question → FLORES passage retrieval, 900 questions parallel in 122 language variants; "
            "four directions per language and the mixed en+x pool",
            loader=loaders.load_belebele,
            mteb_task="BelebeleRetrieval",
        ),
        BenchmarkInfo(
            name="xquad-r",
            title="XQuAD-R (LAReQA)",
            hub_id="google-research-datasets/xquad_r",
            suites=("retrieval", "mixed-pool"),
            split="validation",
            configs=_configs(_XQUAD_R_CODES, _two_letter_tag),
            default_langs=("de", "zh-CN", "hi"),
            license="cc-by-sa-4.0",
            citation="@inproceedings{roy2020lareqa, title={LAReQA: Language-Agnostic Answer Retrieval from a "
            "Multilingual Pool}, author={Roy, Uma and Constant, Noah and Al-Rfou, Rami and Barua, Aditya and "
            "Phillips, Aaron and Yang, Yinfei}, booktitle={EMNLP}, year={2020}}",
            reference="https://arxiv.org/abs/2004.05484",
            description="question → paragraph retrieval, 1190 questions parallel in 11 languages (paragraph level: "
            "the hub copy has no sentence breaks); four directions per language and the mixed en+x pool",
            loader=loaders.load_xquad_r,
        ),
        BenchmarkInfo(
            name="mlqa",
            title="MLQA",
            hub_id="google/xtreme",
            suites=("retrieval", "mixed-pool"),
            splits=("test", "validation"),
            configs=_configs(_MLQA_CODES, _two_letter_tag),
            default_langs=("de", "zh-CN", "hi"),
            license="cc-by-sa-3.0",
            citation="@inproceedings{lewis2020mlqa, title={MLQA: Evaluating Cross-lingual Extractive Question "
            "Answering}, author={Lewis, Patrick and Oguz, Barlas and Rinott, Ruty and Riedel, Sebastian and Schwenk, "
            "Holger}, booktitle={ACL}, year={2020}}",
            reference="https://arxiv.org/abs/1910.07475",
            description="question → paragraph retrieval over the instances parallel between English and each of 6 "
            "languages (XTREME's MLQA.<context>.<question> configurations); four directions and the mixed en+x pool",
            loader=loaders.load_mlqa,
            mteb_task="MLQARetrieval",
        ),
        BenchmarkInfo(
            name="tatoeba",
            title="Tatoeba",
            hub_id="mteb/tatoeba-bitext-mining",
            revision="69e8f12da6e31d59addadda9a9c8a2e601a0e282",
            suites=("bitext",),
            configs={tag: f"{code}-eng" for tag, code in _configs(_TATOEBA_CODES, _tatoeba_tag).items()},
            license="cc-by-2.0",
            citation="@inproceedings{artetxe2019massively, title={Massively Multilingual Sentence Embeddings for "
            "Zero-Shot Cross-Lingual Transfer and Beyond}, author={Artetxe, Mikel and Schwenk, Holger}, "
            "journal={TACL}, year={2019}}",
            reference="https://github.com/facebookresearch/LASER/tree/main/data/tatoeba/v1",
            description="x→en sentence mining, up to 1000 English-aligned pairs per language (112 languages)",
            loader=loaders.load_pair_bitext,
            mteb_task="Tatoeba",
        ),
        BenchmarkInfo(
            name="bucc",
            title="BUCC 2018 (gold pairs)",
            hub_id="mteb/bucc-bitext-mining",
            revision="1739dc11ffe9b7bfccd7f3d585aeb4c544fc6677",
            suites=("bitext",),
            configs=dict(_BUCC_CODES),
            default_langs=tuple(_BUCC_CODES),
            license="not specified",
            citation="@inproceedings{zweigenbaum2017overview, title={Overview of the Second BUCC Shared Task: "
            "Spotting Parallel Sentences in Comparable Corpora}, author={Zweigenbaum, Pierre and Sharoff, Serge "
            "and Rapp, Reinhard}, booktitle={BUCC workshop}, year={2017}}",
            reference="https://comparable.limsi.fr/bucc2018/bucc2018-task.html",
            description="x→en mining of the BUCC 2018 gold pairs (de, fr, ru, zh with English), as MTEB's BUCC.v2",
            loader=loaders.load_pair_bitext,
            mteb_task="BUCC.v2",
        ),
        BenchmarkInfo(
            name="flores",
            title="FLORES+",
            hub_id="openlanguagedata/flores_plus",
            suites=("bitext",),
            split="devtest",
            splits=("dev", "devtest"),
            config_of=_flores_config,
            license="cc-by-sa-4.0",
            citation="@article{nllb2022, title={No Language Left Behind: Scaling Human-Centered Machine "
            "Translation}, author={{NLLB Team} and Costa-juss{\\`a}, Marta R. and others}, "
            "journal={arXiv:2207.04672}, year={2022}}",
            reference="https://huggingface.co/datasets/openlanguagedata/flores_plus",
            description="x→en sentence mining over 1012 devtest sentences parallel in 200+ languages (plus one "
            "pair without English); gated on the hub: accept its terms and log in",
            loader=loaders.load_flores,
            mteb_task="FloresBitextMining",
        ),
    )
}


def parse_benchmark_spec(spec: str) -> tuple[str, list[str] | None]:
    """``"belebele:de,zh-CN"`` -> ``("belebele", ["de", "zh-CN"])``; ``"tatoeba"`` -> ``("tatoeba", None)``;
    ``"mteb:Tatoeba:deu-eng"`` -> ``("mteb:Tatoeba", ["deu-eng"])``.

    Raises:
        ConfigError: An empty name.
    """
    text = spec.strip()
    if text.lower().startswith("mteb:"):
        task, _, rest = text[5:].partition(":")
        name = f"mteb:{task.strip()}"
        if not task.strip():
            raise ConfigError("mteb: needs a task name", hint="e.g. --benchmark mteb:Tatoeba")
    else:
        name, _, rest = text.partition(":")
        name = name.strip().lower()
    if not name:
        raise ConfigError(f"empty benchmark name in {spec!r}", hint=f"choose from {', '.join(BENCHMARKS)}")
    langs = [x.strip() for x in rest.split(",") if x.strip()] if rest.strip() else None
    return name, langs


def _resolve_langs(info: BenchmarkInfo, langs: Iterable[str] | None) -> dict[str, str]:
    """Tag -> configuration name of each requested language (tags or the benchmark's own configuration names).

    English, the pivot, is read by every loader anyway; asked for alone it gives the ``en→en`` sets where the
    benchmark has them."""
    requested = list(info.default_langs) if langs is None else list(langs)
    by_config = {config: tag for tag, config in info.configs.items()}
    out: dict[str, str] = {}
    for item in requested:
        if item in by_config:
            tag = by_config[item]
        elif info.config_of is not None and "_" in item:
            tag = from_iso639_3(item)  # a FLORES-style configuration name given as is
            if tag is None:
                raise UnknownLanguageError(
                    f"{info.name}: crossalign does not know the language of configuration {item!r}",
                    hint="use a language crossalign knows (crossalign.languages.known_codes())",
                )
            out.setdefault(tag, item)
            continue
        else:
            tag = normalize_lang(item, field=f"--benchmark {info.name}")
            if info.configs and tag not in info.configs:
                base = [t for t in info.configs if t.split("-")[0] == tag.split("-")[0]]
                if len(base) != 1:
                    raise UnknownLanguageError(
                        f"{info.name} has no language {item!r}",
                        hint=f"choose from: {', '.join(sorted(info.configs))}",
                    )
                tag = base[0]
        if tag not in out:
            out[tag] = info.configs[tag] if info.configs else info.config_of(tag)  # type: ignore[misc]
    if not out:
        raise ConfigError(
            f"{info.name}: no language given", hint=f"name one, e.g. --benchmark {info.name}:{info.default_langs[0]}"
        )
    return out


def load_benchmark(
    name: str,
    *,
    langs: str | Iterable[str] | None = None,
    split: str | None = None,
    path: str | os.PathLike[str] | None = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Benchmark:
    """Load a benchmark as evaluation sets.

    Args:
        name: A name of :data:`BENCHMARKS` (``belebele``, ``xquad-r``, ``mlqa``, ``tatoeba``, ``bucc``, ``flores``),
            optionally with languages (``belebele:de,zh-CN``), or ``mteb:<TaskName>[:<hf_subsets>]``.
        langs: Languages (tags or the benchmark's configuration names; comma-separated or a list). English is
            always loaded. Default: the benchmark's ``default_langs``.
        split: The split (default: the benchmark's evaluation split).
        path: A local copy in the hub repository's layout, read instead of the hub.
        revision: A hub revision instead of the registry's.
        cache_dir: ``datasets``' cache directory.

    Raises:
        ConfigError: An unknown benchmark or split (the message lists the choices).
        UnknownLanguageError: A language the benchmark does not have.
        DataFormatError: A local copy that is not in the benchmark's layout (naming the configuration, row and
            column).
        CorpusError: The hub cannot be reached or refuses access.
    """
    base, spec_langs = parse_benchmark_spec(name)
    if isinstance(langs, str):
        langs = [x.strip() for x in langs.split(",") if x.strip()]
    wanted = list(langs) if langs is not None else spec_langs
    if base.startswith("mteb:"):
        from crossalign.data.benchmarks.mteb_tasks import load_mteb_task

        if path is not None or revision is not None:
            raise ConfigError(
                f"{base} is read by mteb itself, from the task's own hub dataset and revision",
                hint="drop --benchmark-path / revision, or use a crossalign loader with a local copy "
                f"({', '.join(BENCHMARKS)})",
            )

        return load_mteb_task(base[5:], subsets=wanted, split=split)
    info = BENCHMARKS.get(base)
    if info is None:
        raise ConfigError(
            f"unknown benchmark {base!r}",
            hint=f"choose from {', '.join(BENCHMARKS)}, or an MTEB task as mteb:<TaskName>",
        )
    split = split or info.split
    if split not in info.splits:
        raise ConfigError(f"{info.name} has no split {split!r}", hint=f"choose from {', '.join(info.splits)}")
    resolved = _resolve_langs(info, wanted)
    source = HubSource(info.hub_id, revision=revision or info.revision, path=path, cache_dir=cache_dir)
    sets = info.loader(source, resolved, split, info.name)
    return Benchmark(info=info, langs=resolved, split=split, sets=sets, source=source.describe())


def benchmark_table() -> str:
    """The registry as a Markdown table (the README's table of ``--benchmark`` names)."""
    rows = [
        "| `--benchmark` | benchmark | hub id (revision) | split | suites (evaluators) | languages | licence |",
        "|---|---|---|---|---|---|---|",
    ]
    for info in BENCHMARKS.values():
        rev = f" (`{info.revision[:8]}`)" if info.revision else ""
        langs = f"{len(info.languages)} crossalign knows" if info.configs else "every FLORES+ configuration"
        suites = ", ".join(info.suites) + f" ({', '.join(info.evaluators)})"
        rows.append(
            f"| `{info.name}` | [{info.title}]({info.reference}) | `{info.hub_id}`{rev} | {info.split} | {suites} | "
            f"{langs}; default {','.join(info.default_langs)} | {info.license} |"
        )
    return "\n".join(rows)
