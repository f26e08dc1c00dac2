"""The 33 LibreOffice help languages (English + 32 translations): tags, Debian packages, help folders.

Three spellings name the same language:

=============  ===========================  ===========
canonical tag  Debian package               help folder
=============  ===========================  ===========
``en``         ``libreoffice-help-en-us``   ``en-US``
``en-GB``      ``libreoffice-help-en-gb``   ``en-GB``
``zh-CN``      ``libreoffice-help-zh-cn``   ``zh-CN``
``pt-BR``      ``libreoffice-help-pt-br``   ``pt-BR``
``de``         ``libreoffice-help-de``      ``de``
=============  ===========================  ===========

English (the help's source language, folder ``en-US``) is ``en``; British English is its own tag ``en-GB``.

Debian has 34 ``libreoffice-help-*`` language packages, but ``libreoffice-help-sk`` holds no Slovak help: its folder
``/usr/share/libreoffice/help/sk`` is a symbolic link to the Czech one (``cs``), so Slovak is not offered (asking for
it raises an error that says so). ``libreoffice-help-ca`` also ships ``ca-valencia``, which is not used.
"""

from __future__ import annotations

from collections.abc import Iterable

from crossalign.errors import UnknownLanguageError
from crossalign.languages import normalize_lang, parse_lang_list

#: Canonical tags of the languages the Debian archive ships LibreOffice help for (``libreoffice-help-<x>``).
LIBREOFFICE_LANGUAGES: tuple[str, ...] = (
    "ca",
    "cs",
    "da",
    "de",
    "dz",
    "el",
    "en",
    "en-GB",
    "es",
    "et",
    "eu",
    "fi",
    "fr",
    "gl",
    "hi",
    "hu",
    "id",
    "it",
    "ja",
    "km",
    "ko",
    "nl",
    "om",
    "pl",
    "pt",
    "pt-BR",
    "ru",
    "sl",
    "sv",
    "tr",
    "vi",
    "zh-CN",
    "zh-TW",
)

#: The help's source language: every other language is aligned to it and compared with it.
SOURCE_LANGUAGE = "en"

#: Tags Debian has a help package for that holds no help of its own -> why.
NOT_OFFERED: dict[str, str] = {
    "sk": "Debian's libreoffice-help-sk contains no Slovak help: its help folder is a link to the Czech one (cs)",
}

#: Languages whose words are not separated by spaces: stats also report characters for them.
UNSPACED_LANGUAGES: frozenset[str] = frozenset({"zh-CN", "zh-TW", "ja", "km", "dz"})

_PACKAGE_PREFIX = "libreoffice-help-"


_CHOOSE = f"choose from the {len(LIBREOFFICE_LANGUAGES)} languages: {', '.join(LIBREOFFICE_LANGUAGES)}"


def lo_lang(code: str, *, field: str = "language") -> str:
    """Normalise ``code`` to one of :data:`LIBREOFFICE_LANGUAGES` or raise :class:`UnknownLanguageError`.

    Accepts any spelling :func:`crossalign.languages.normalize_lang` accepts (``zh_cn``, ``EN-us``), the help
    folder names (``en-US``, ``pt-BR``) and the Debian package names (``libreoffice-help-zh-cn``).

    Args:
        code: The language as the user wrote it.
        field: What the code is, for the error message (``--langs``).

    Returns:
        The canonical tag (``zh-CN``, ``en``).

    Raises:
        UnknownLanguageError: ``code`` is not a LibreOffice help language; the message lists the 33 that are.

    Example:
        >>> lo_lang("libreoffice-help-zh-cn"), lo_lang("en-US"), lo_lang("PT_br")
        ('zh-CN', 'en', 'pt-BR')
    """
    text = code.strip() if isinstance(code, str) else code
    if isinstance(text, str) and text.lower().startswith(_PACKAGE_PREFIX):
        text = text[len(_PACKAGE_PREFIX) :]
    if isinstance(text, str) and text.lower() in NOT_OFFERED:
        raise UnknownLanguageError(
            f"{field}: {code!r} is not offered: {NOT_OFFERED[text.lower()]}",
            hint=_CHOOSE,
        )
    try:
        return normalize_lang(text, available=LIBREOFFICE_LANGUAGES, field=field)
    except UnknownLanguageError as exc:
        raise UnknownLanguageError(
            f"{field}: {code!r} is not a language of the LibreOffice help",
            hint=_CHOOSE,
        ) from exc


def lo_lang_list(value: str | Iterable[str], *, field: str = "--langs") -> list[str]:
    """Parse ``"de,zh-CN, hi"`` (or a list) into canonical LibreOffice tags, keeping order, dropping duplicates.

    ``all`` stands for every language of :data:`LIBREOFFICE_LANGUAGES`.

    Raises:
        UnknownLanguageError: A code is not a LibreOffice help language, or the list is empty.

    Example:
        >>> lo_lang_list("de, zh_cn,DE")
        ['de', 'zh-CN']
    """
    items = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v and v.strip()]
    if any(item.lower() == "all" for item in items):
        return list(LIBREOFFICE_LANGUAGES)
    return parse_lang_list([lo_lang(item, field=field) for item in items], field=field)


def package_name(lang: str) -> str:
    """The Debian package holding the help for ``lang``.

    Example:
        >>> package_name("en"), package_name("zh-CN")
        ('libreoffice-help-en-us', 'libreoffice-help-zh-cn')
    """
    canon = lo_lang(lang)
    return _PACKAGE_PREFIX + ("en-us" if canon == "en" else canon.lower())


def help_folder(lang: str) -> str:
    """The folder name under ``/usr/share/libreoffice/help/`` for ``lang``.

    Example:
        >>> help_folder("en"), help_folder("zh-CN"), help_folder("de")
        ('en-US', 'zh-CN', 'de')
    """
    canon = lo_lang(lang)
    return "en-US" if canon == "en" else canon


def is_english(lang: str) -> bool:
    """True for ``en`` and ``en-GB``: texts identical to the source are not "untranslated" for them."""
    return lang.split("-")[0] == "en"
