"""Per-language mean-centering: estimation, the sentence-transformers module, encode paths, files and errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from crossalign.errors import ConfigError, DataFormatError
from crossalign.models.centering import LanguageCentering, add_centering, estimate_language_means, find_centering
from crossalign.models.embedding_cache import EmbeddingCache
from crossalign.models.encoder import encode
from crossalign.workflows.center import centered_model, read_text_file

#: Two "languages" of the tiny model's alphabet, with different typical pieces (so their means differ).
TEXTS = {
    "de": ["ab", "ab ab", "abc ab", "a ab b", "ab abc q", "ab x ab"],
    "ja": ["x x", "q x", "x p x", "p p x", "x q q", "c x"],
}


@pytest.fixture
def centering(tiny_st):
    return estimate_language_means(tiny_st, TEXTS)


def test_means_are_estimated_per_prompt_and_language(tiny_st, centering):
    assert centering.prompts == sorted(tiny_st.prompts) == ["document", "passage", "query"]
    assert centering.languages == ["de", "ja"]
    for prompt in ("query", "passage"):
        for lang, texts in TEXTS.items():
            raw = encode(tiny_st, texts, prompt_name=prompt)
            np.testing.assert_allclose(centering.mean(lang, prompt).numpy(), raw.mean(axis=0), atol=1e-6)
    assert not torch.allclose(centering.mean("de", "query"), centering.mean("ja", "query"))
    assert not torch.allclose(centering.mean("de", "query"), centering.mean("de", "passage"))
    assert centering.counts == {p: {"de": 6, "ja": 6} for p in ("query", "passage", "document")}
    assert torch.equal(centering.mean("ja", "document"), centering.mean("ja", "passage"))  # the same prompt text


def test_centering_the_estimation_texts_gives_mean_zero(tiny_st, centering):
    """The defining property (before re-normalisation): a language's own estimation texts have mean zero."""
    centering.normalize = False
    for prompt in ("query", "passage"):
        for lang, texts in TEXTS.items():
            raw = encode(tiny_st, texts, prompt_name=prompt)
            centered = centering.center_numpy(raw, lang, prompt)
            np.testing.assert_allclose(centered.mean(axis=0), 0.0, atol=1e-6)


def test_centered_vectors_are_renormalised_differences(tiny_st, centering):
    raw = encode(tiny_st, TEXTS["ja"], prompt_name="query")
    got = centering.center_numpy(raw, "ja", "query")
    expected = raw - centering.mean("ja", "query").numpy()
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # one language per text, mixed in one call
    mixed = centering.center_numpy(np.concatenate([raw[:2], raw[:2]]), ["ja", "ja", "de", "de"], "query")
    np.testing.assert_allclose(mixed[:2], got[:2], atol=1e-6)
    assert not np.allclose(mixed[2:], got[:2], atol=1e-3)


def test_unknown_language_is_an_error_and_no_language_passes_through(tiny_st, centering):
    raw = encode(tiny_st, ["ab"], prompt_name="query")
    with pytest.raises(ConfigError, match=r"no mean for language 'ru' \(it has de, ja\)") as info:
        centering.center_numpy(raw, "ru", "query")
    assert "crossalign center" in info.value.hint
    with pytest.raises(ConfigError, match="prompts"):
        centering.center_numpy(raw, "de", None)  # two prompts: say which
    model = add_centering(tiny_st, centering)
    assert find_centering(model) is centering
    features = {"sentence_embedding": torch.from_numpy(raw)}
    assert torch.equal(centering(dict(features))["sentence_embedding"], features["sentence_embedding"])


def test_encode_and_the_evaluation_cache_center_by_language(tiny_st, centering):
    model = add_centering(tiny_st, centering)
    texts = ["ab x", "q q ab"]
    raw = encode(model, texts, prompt_name="query")
    np.testing.assert_allclose(raw, encode(tiny_st, texts, prompt_name="query"), atol=0)  # no language: raw
    expected = centering.center_numpy(raw, ["de", "ja"], "query")
    np.testing.assert_allclose(encode(model, texts, prompt_name="query", lang=["de", "ja"]), expected, atol=1e-6)
    cache = EmbeddingCache(model, fingerprint="test")
    np.testing.assert_allclose(cache.encode(texts, "query", ["de", "ja"]), expected, atol=1e-6)
    np.testing.assert_allclose(cache.encode(texts, "query"), raw, atol=1e-6)  # the cache keeps raw vectors


def test_fingerprint_ignores_centering_so_cached_vectors_are_shared(tiny_st, centering):
    """The embedding cache keeps uncentered vectors, so a model with centering (any means) shares the key of the
    same model without it; the encoder's weights still decide the key."""
    import copy

    from crossalign.models.loading import model_fingerprint

    plain = model_fingerprint(tiny_st)
    centered = add_centering(copy.deepcopy(tiny_st), centering)
    assert model_fingerprint(centered) == plain
    other = LanguageCentering(
        means={p: {lang: -centering.mean(lang, p).numpy() for lang in centering.languages} for p in centering.prompts}
    )
    assert model_fingerprint(add_centering(copy.deepcopy(tiny_st), other)) == plain
    changed = copy.deepcopy(centered)
    with torch.no_grad():
        next(changed[0].auto_model.parameters()).add_(1.0)
    assert model_fingerprint(changed) != plain


def test_saved_model_loads_in_plain_sentence_transformers(tiny_st, centering, tmp_path):
    model = add_centering(tiny_st, centering)
    model.save(str(tmp_path / "centered"))
    texts = ["ab x", "q q ab"]
    expected = centering.center_numpy(encode(tiny_st, texts, prompt_name="passage"), "ja", "passage")
    np.save(tmp_path / "expected.npy", expected)
    script = (
        "import numpy as np\n"
        "from sentence_transformers import SentenceTransformer\n"
        # the module is crossalign's code, so plain sentence-transformers asks for trust_remote_code
        f"m = SentenceTransformer({str(tmp_path / 'centered')!r}, device='cpu', trust_remote_code=True)\n"
        f"got = m.encode({texts!r}, prompt_name='passage', lang='ja', centering_prompt='passage')\n"
        f"np.testing.assert_allclose(got, np.load({str(tmp_path / 'expected.npy')!r}), atol=1e-5)\n"
        f"raw = m.encode({texts!r}, prompt_name='passage')\n"
        "assert not np.allclose(raw, got, atol=1e-3)\n"
        "print(type(m[-1]).__name__, m[-1].languages)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "LanguageCentering ['de', 'ja']"
    # crossalign's loader resolves its own module without the flag
    from crossalign.models.loading import load_model

    loaded = load_model(str(tmp_path / "centered"), device="cpu")
    assert isinstance(loaded[-1], LanguageCentering)
    np.testing.assert_allclose(encode(loaded, texts, prompt_name="passage", lang="ja"), expected, atol=1e-5)


def test_centered_model_from_text_files(tiny_st_dir, tmp_path):
    (tmp_path / "de.txt").write_text("\n".join(TEXTS["de"]) + "\n\n", encoding="utf-8")
    (tmp_path / "ja.txt").write_text("\n".join(TEXTS["ja"]), encoding="utf-8")
    out = centered_model(
        tiny_st_dir, tmp_path / "out", text_files={"de": tmp_path / "de.txt", "ja": tmp_path / "ja.txt"}
    )
    loaded = LanguageCentering.load(str(out), subfolder=_centering_folder(out))
    assert loaded.languages == ["de", "ja"] and loaded.counts["query"] == {"de": 6, "ja": 6}
    with pytest.raises(ConfigError, match="not empty"):
        centered_model(tiny_st_dir, tmp_path / "out", text_files={"de": tmp_path / "de.txt"})


def _centering_folder(out) -> str:
    import json

    modules = json.loads((out / "modules.json").read_text())
    return next(m["path"] for m in modules if m["type"].endswith("LanguageCentering"))


def test_text_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_text_file(tmp_path / "missing.txt", "de")
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="no text for language 'de'"):
        read_text_file(tmp_path / "empty.txt", "de")
    (tmp_path / "latin1.txt").write_bytes("Straße".encode("latin-1"))
    with pytest.raises(DataFormatError, match="not UTF-8"):
        read_text_file(tmp_path / "latin1.txt", "de")


def test_cli_center_prints_the_directory_and_refuses_bad_input(tiny_st_dir, tmp_path, capsys):
    from crossalign.cli.main import main

    (tmp_path / "de.txt").write_text("\n".join(TEXTS["de"]), encoding="utf-8")
    out = tmp_path / "centered"
    assert main(["center", str(tiny_st_dir), "--texts", f"de={tmp_path / 'de.txt'}", "--output", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out)
    assert (out / "crossalign_centering.json").is_file()
    assert main(["center", str(tiny_st_dir), "--output", str(tmp_path / "none")]) == 2  # no language
    assert "no language" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()
