"""One language-code convention for the whole package: BCP-47 tags.

crossalign names languages by canonical BCP-47 tags: a lower-case language subtag, an optional title-case script
subtag and an optional upper-case region subtag (``de``, ``zh-CN``, ``pt-BR``, ``sr-Latn``). Input is accepted in any
case and with ``_`` or ``-`` as separator (``zh_cn``, ``ZH-cn``) and normalised by :func:`normalize_lang`; a tag whose
language subtag crossalign does not know is rejected with the list of known ones.

Every known language carries its ISO 639-3 code and default ISO 15924 script, which is what MTEB's task metadata uses
(``deu-Latn``): see :func:`mteb_code`.

English is ``en``; ``en-US`` is accepted as an alias of it (the LibreOffice help's source language is en-US).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from crossalign.errors import UnknownLanguageError


@dataclass(frozen=True)
class Language:
    """A language crossalign knows.

    Attributes:
        code: Canonical BCP-47 tag.
        name: English name.
        iso639_3: ISO 639-3 code (``deu``).
        script: ISO 15924 script code (``Latn``).
    """

    code: str
    name: str
    iso639_3: str
    script: str

    @property
    def mteb_code(self) -> str:
        """The ``iso639_3-Script`` code MTEB's task metadata uses (``deu-Latn``)."""
        return f"{self.iso639_3}-{self.script}"


# (code, English name, ISO 639-3, script). The XLM-R/mE5 pre-training languages, the LibreOffice help languages and
# the languages of the benchmarks the methods report on (XQuAD, Belebele, MIRACL, Tatoeba's common ones).
_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("af", "Afrikaans", "afr", "Latn"),
    ("am", "Amharic", "amh", "Ethi"),
    ("ar", "Arabic", "arb", "Arab"),
    ("as", "Assamese", "asm", "Beng"),
    ("az", "Azerbaijani", "azj", "Latn"),
    ("be", "Belarusian", "bel", "Cyrl"),
    ("bg", "Bulgarian", "bul", "Cyrl"),
    ("bn", "Bengali", "ben", "Beng"),
    ("br", "Breton", "bre", "Latn"),
    ("bs", "Bosnian", "bos", "Latn"),
    ("ca", "Catalan", "cat", "Latn"),
    ("cs", "Czech", "ces", "Latn"),
    ("cy", "Welsh", "cym", "Latn"),
    ("da", "Danish", "dan", "Latn"),
    ("de", "German", "deu", "Latn"),
    ("dz", "Dzongkha", "dzo", "Tibt"),
    ("el", "Greek", "ell", "Grek"),
    ("en", "English", "eng", "Latn"),
    ("en-GB", "English (United Kingdom)", "eng", "Latn"),
    ("eo", "Esperanto", "epo", "Latn"),
    ("es", "Spanish", "spa", "Latn"),
    ("et", "Estonian", "est", "Latn"),
    ("eu", "Basque", "eus", "Latn"),
    ("fa", "Persian", "pes", "Arab"),
    ("fi", "Finnish", "fin", "Latn"),
    ("fr", "French", "fra", "Latn"),
    ("fy", "Western Frisian", "fry", "Latn"),
    ("ga", "Irish", "gle", "Latn"),
    ("gd", "Scottish Gaelic", "gla", "Latn"),
    ("gl", "Galician", "glg", "Latn"),
    ("gu", "Gujarati", "guj", "Gujr"),
    ("ha", "Hausa", "hau", "Latn"),
    ("he", "Hebrew", "heb", "Hebr"),
    ("hi", "Hindi", "hin", "Deva"),
    ("hr", "Croatian", "hrv", "Latn"),
    ("hu", "Hungarian", "hun", "Latn"),
    ("hy", "Armenian", "hye", "Armn"),
    ("id", "Indonesian", "ind", "Latn"),
    ("is", "Icelandic", "isl", "Latn"),
    ("it", "Italian", "ita", "Latn"),
    ("ja", "Japanese", "jpn", "Jpan"),
    ("jv", "Javanese", "jav", "Latn"),
    ("ka", "Georgian", "kat", "Geor"),
    ("kk", "Kazakh", "kaz", "Cyrl"),
    ("km", "Khmer", "khm", "Khmr"),
    ("kn", "Kannada", "kan", "Knda"),
    ("ko", "Korean", "kor", "Kore"),
    ("ku", "Kurdish", "kmr", "Latn"),
    ("ky", "Kyrgyz", "kir", "Cyrl"),
    ("la", "Latin", "lat", "Latn"),
    ("lo", "Lao", "lao", "Laoo"),
    ("lt", "Lithuanian", "lit", "Latn"),
    ("lv", "Latvian", "lvs", "Latn"),
    ("mg", "Malagasy", "plt", "Latn"),
    ("mk", "Macedonian", "mkd", "Cyrl"),
    ("ml", "Malayalam", "mal", "Mlym"),
    ("mn", "Mongolian", "khk", "Cyrl"),
    ("mr", "Marathi", "mar", "Deva"),
    ("ms", "Malay", "zsm", "Latn"),
    ("my", "Burmese", "mya", "Mymr"),
    ("ne", "Nepali", "npi", "Deva"),
    ("nl", "Dutch", "nld", "Latn"),
    ("no", "Norwegian", "nob", "Latn"),
    ("om", "Oromo", "gaz", "Latn"),
    ("or", "Odia", "ory", "Orya"),
    ("pa", "Punjabi", "pan", "Guru"),
    ("pl", "Polish", "pol", "Latn"),
    ("ps", "Pashto", "pbt", "Arab"),
    ("pt", "Portuguese", "por", "Latn"),
    ("pt-BR", "Portuguese (Brazil)", "por", "Latn"),
    ("ro", "Romanian", "ron", "Latn"),
    ("ru", "Russian", "rus", "Cyrl"),
    ("sa", "Sanskrit", "san", "Deva"),
    ("sd", "Sindhi", "snd", "Arab"),
    ("si", "Sinhala", "sin", "Sinh"),
    ("sk", "Slovak", "slk", "Latn"),
    ("sl", "Slovenian", "slv", "Latn"),
    ("so", "Somali", "som", "Latn"),
    ("sq", "Albanian", "als", "Latn"),
    ("sr", "Serbian", "srp", "Cyrl"),
    ("su", "Sundanese", "sun", "Latn"),
    ("sv", "Swedish", "swe", "Latn"),
    ("sw", "Swahili", "swh", "Latn"),
    ("ta", "Tamil", "tam", "Taml"),
    ("te", "Telugu", "tel", "Telu"),
    ("th", "Thai", "tha", "Thai"),
    ("tl", "Tagalog", "tgl", "Latn"),
    ("tr", "Turkish", "tur", "Latn"),
    ("ug", "Uyghur", "uig", "Arab"),
    ("uk", "Ukrainian", "ukr", "Cyrl"),
    ("ur", "Urdu", "urd", "Arab"),
    ("uz", "Uzbek", "uzn", "Latn"),
    ("vi", "Vietnamese", "vie", "Latn"),
    ("xh", "Xhosa", "xho", "Latn"),
    ("yi", "Yiddish", "ydd", "Hebr"),
    ("yo", "Yoruba", "yor", "Latn"),
    ("zh", "Chinese", "cmn", "Hans"),
    ("zh-CN", "Chinese (Simplified, China)", "cmn", "Hans"),
    ("zh-TW", "Chinese (Traditional, Taiwan)", "cmn", "Hant"),
    ("zu", "Zulu", "zul", "Latn"),
)

#: Canonical tag -> :class:`Language`.
LANGUAGES: dict[str, Language] = {code: Language(code, name, iso, script) for code, name, iso, script in _TABLE}

#: Lower-cased alternative spellings -> canonical tag.
ALIASES: dict[str, str] = {
    "en-us": "en",
    "pt-pt": "pt",
    "zh-hans": "zh-CN",
    "zh-hant": "zh-TW",
    "zh-hans-cn": "zh-CN",
    "zh-hant-tw": "zh-TW",
    "nb": "no",
    "iw": "he",
    "in": "id",
}

_SUBTAG = re.compile(r"^[A-Za-z0-9]{1,8}$")


def _canonical_form(tag: str) -> str:
    """Case-normalise a syntactically valid tag: ``ZH_cn`` -> ``zh-CN``, ``sr_latn`` -> ``sr-Latn``."""
    parts = re.split(r"[-_]", tag.strip())
    if not parts or not all(_SUBTAG.match(p) for p in parts):
        return ""
    out = [parts[0].lower()]
    for p in parts[1:]:
        if len(p) == 4 and p.isalpha():
            out.append(p.title())
        elif (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit()):
            out.append(p.upper())
        else:
            out.append(p.lower())
    return "-".join(out)


def known_codes() -> list[str]:
    """All canonical tags crossalign knows, sorted."""
    return sorted(LANGUAGES)


def normalize_lang(code: str, *, available: Iterable[str] | None = None, field: str = "language") -> str:
    """Return the canonical BCP-47 tag for ``code``, or raise :class:`UnknownLanguageError`.

    A tag is accepted when, after case normalisation and aliasing, it is a known tag or a known language subtag with
    a script/region subtag (``de-AT``). With ``available`` given (the languages a corpus or model offers), the result
    must be one of those; the error then lists them.

    Args:
        code: The tag as the user wrote it (``zh_cn``, ``DE``, ``en-US``).
        available: Restrict to these canonical tags (e.g. the corpus' languages).
        field: What the code is, for the message (``--langs``, ``query_lang``, ...).

    Returns:
        The canonical tag (``zh-CN``, ``de``, ``en``).

    Example:
        >>> normalize_lang("zh_cn")
        'zh-CN'
        >>> normalize_lang("EN-us")
        'en'
    """
    if not isinstance(code, str) or not code.strip():
        raise UnknownLanguageError(
            f"{field}: empty language code {code!r}",
            hint=f"use a BCP-47 tag such as 'de', 'zh-CN' or 'pt-BR' (known: {', '.join(known_codes())})",
        )
    form = _canonical_form(code)
    canon = ALIASES.get(form.lower(), form)
    known = canon in LANGUAGES or (bool(canon) and canon.split("-")[0] in LANGUAGES)
    if available is not None:
        avail = sorted(set(available))
        if canon not in avail:
            raise UnknownLanguageError(
                f"{field}: language {code!r} is not available here",
                hint=f"choose from: {', '.join(avail)}",
            )
        return canon
    if not known:
        raise UnknownLanguageError(
            f"{field}: unknown language code {code!r}",
            hint=f"use a BCP-47 tag; known languages: {', '.join(known_codes())}",
        )
    return canon


def parse_lang_list(
    value: str | Iterable[str], *, available: Iterable[str] | None = None, field: str = "--langs"
) -> list[str]:
    """Parse ``"de,zh-CN, hi"`` (or a list) into canonical tags, keeping order and dropping duplicates."""
    items = [v for v in (value.split(",") if isinstance(value, str) else value)]
    items = [v.strip() for v in items if v and v.strip()]
    if not items:
        raise UnknownLanguageError(
            f"{field}: no language given", hint="pass a comma-separated list such as de,zh-CN,hi"
        )
    out: list[str] = []
    for item in items:
        canon = normalize_lang(item, available=available, field=field)
        if canon not in out:
            out.append(canon)
    return out


def get_language(code: str) -> Language:
    """The :class:`Language` for a tag; a region/script variant inherits its base language's codes."""
    canon = normalize_lang(code)
    if canon in LANGUAGES:
        return LANGUAGES[canon]
    parts = canon.split("-")
    base = LANGUAGES[parts[0]]
    script = next((p for p in parts[1:] if len(p) == 4), base.script)
    return Language(canon, base.name, base.iso639_3, script)


def mteb_code(code: str) -> str:
    """``iso639_3-Script`` for a tag, as MTEB task metadata writes languages (``zh-CN`` -> ``cmn-Hans``)."""
    return get_language(code).mteb_code


#: ISO 639-3 individual-language codes that datasets write for a macrolanguage crossalign files under another code
#: (FLORES and Belebele write ``zho_Hans`` where crossalign's table has ``cmn``; Tatoeba writes ``ara``, ``fas``, ...).
_ISO639_3_ALIASES: dict[str, str] = {
    "zho": "cmn",
    "ara": "arb",
    "fas": "pes",
    "msa": "zsm",
    "nep": "npi",
    "lav": "lvs",
    "mon": "khk",
    "aze": "azj",
    "uzb": "uzn",
    "orm": "gaz",
    "mlg": "plt",
    "sqi": "als",
    "swa": "swh",
    "pus": "pbt",
    "yid": "ydd",
    "kur": "kmr",
    "nor": "nob",
}
#: Scripts that datasets spell differently from crossalign's table (Korean as ``Hang`` in FLORES and Belebele).
_SCRIPT_ALIASES: dict[str, str] = {"Hang": "Kore"}
#: Where one ISO 639-3 code + script fits several tags, the tag crossalign uses (``zh-CN`` as in the LibreOffice sets).
_ISO_PREFERRED: dict[tuple[str, str], str] = {("cmn", "Hans"): "zh-CN", ("cmn", "Hant"): "zh-TW"}


def from_iso639_3(code: str, script: str | None = None) -> str | None:
    """The crossalign tag of an ISO 639-3 code (and ISO 15924 script), as benchmarks name languages, or None.

    Accepts ``deu``, ``deu_Latn``, ``deu-Latn`` (FLORES, Belebele and MTEB spellings) and macrolanguage codes
    (``zho_Hans`` -> ``zh-CN``, ``ara`` -> ``ar``). A script that differs from crossalign's default script of the
    language gives a script-tagged variant (``hin_Latn`` -> ``hi-Latn``); a language crossalign does not know gives
    None.

    Example:
        >>> from_iso639_3("deu_Latn"), from_iso639_3("zho_Hant"), from_iso639_3("hin_Latn"), from_iso639_3("ace")
        ('de', 'zh-TW', 'hi-Latn', None)
    """
    parts = re.split(r"[-_]", code.strip())
    iso = _ISO639_3_ALIASES.get(parts[0].lower(), parts[0].lower())
    if script is None and len(parts) > 1:
        script = parts[1]
    script = _SCRIPT_ALIASES.get(script.title(), script.title()) if script else None
    if script and (iso, script) in _ISO_PREFERRED:
        return _ISO_PREFERRED[iso, script]
    matches = [lang for lang in LANGUAGES.values() if lang.iso639_3 == iso]
    if not matches:
        return None
    # the plainest tag: no region subtag (en before en-GB, pt before pt-BR)
    matches.sort(key=lambda lang: (len(lang.code.split("-")), lang.code))
    if script is None:
        return matches[0].code
    for lang in matches:
        if lang.script == script:
            return lang.code
    return f"{matches[0].code.split('-')[0]}-{script}"
