"""Small LibreOffice-help-like trees for the unit tests (written by the tests; no LibreOffice text is stored).

The pages copy the *structure* of the real generated help (chrome around ``<div id="DisplayArea">``, bookmark anchors,
``switch``/``switchinline`` variants, ``howtoget``/``relatedtopics``/``embedded`` blocks, a debug footer) with
made-up sentences. Three languages: ``en-US``, ``de`` and ``km`` (Khmer, with zero-width spaces between words).

What the fixtures contain, by design:

- ``text/swriter/guide/print_small.html`` in all three languages: headings ``hd_id1`` (h1), ``hd_id2`` (h2),
  ``hd_id3`` (h3), an empty ``hd_idempty``; paragraphs ``par_id1``-``par_id8``; a code paragraph ``par_idcode``; a
  howtoget paragraph ``par_idhow``; a related-topics paragraph ``par_idrel``; ``par_id9`` only in the hidden MAC
  variant; ``par_id1`` repeated in an embedded block (duplicate id); ``par_id2`` is untranslated in km;
  ``par_id5`` is missing in de.
- ``text/scalc/01/func_sum.html`` in en and de only (missing page in km): an inline module switch (CALC variant shown
  on a Calc page) and an embedded copy of the "Syntax" section of the shared page.
- ``text/shared/01/about.html`` in all three: the home of the "Syntax" section, the same module switch (default
  variant shown on a shared page), a ``bm_id`` heading with text, and in de an extra paragraph English lacks.
"""

# ruff: noqa: E501  (the pages are long HTML lines, like the real help)
from __future__ import annotations

from pathlib import Path

ZW = "\u200b"

CHROME_TOP = """<!DOCTYPE html>
<html lang="{lang}" dir="ltr">
<head>
<base href="../../../../">
<noscript><meta http-equiv="refresh" content="0; URL=../../../../{lang}/noscript.html"></noscript>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{title}</title>
<link type="text/css" href="default.css" rel="Stylesheet">
<script type="text/javascript" src="help2.js" defer></script>
</head>
<body>
<header id="TopLeftHeader"><a class="logo" href="{lang}/text/shared/05/new_help.html"><p dir="auto">Office Help</p></a>
<div class="dropdowns"><div class="modules"><button type="button" id="modules">Module</button></div></div></header>
<aside class="leftside"><div id="Index"><div class="index-label" dir="auto">Index</div>
<h2 id="hd_idchrome" dir="auto">Not content: outside the display area</h2></div></aside>
<div id="DisplayArea" itemprop="softwareHelp" itemscope="true">
"""

CHROME_BOTTOM = """</div>
<div id="SearchFrame"></div>
<footer><div id="DEBUG" class="debug">
<h3 class="bug">Help content debug info:</h3>
<p dir="auto">This page is: /{path}</p>
<p id="bm_module" dir="auto"></p>
<p id="bm_system" dir="auto"></p>
</div></footer>
</body>
</html>
"""

PRINT_SMALL = """<a name="bm_id100"></a><meta itemprop="keywords" content="printing,several pages">
<h1 id="hd_id1" dir="auto">
<a name="print_small"></a>{h1}
</h1>
<p id="par_id1" class="paragraph" dir="auto">{p1a} <span class="emph">{p1b}</span> {p1c}</p>
<a name="howtoget"></a><div class="howtoget">
<div><p class="howtogetheader" dir="auto"><a name="wie"></a>{howhead}</p></div>
<div class="howtogetbody"><p id="par_idhow" class="paragraph" dir="auto">{how}</p></div>
</div>
<p id="par_id2" class="paragraph" dir="auto">{p2a} <span id="swlnsystextswriterguide_1" class="switchinline"><span hidden="true" id="MACtextswriterguide_1" class="MAC"><span class="keycode">Command</span></span><span hidden="true" id="defaulttextswriterguide_1"><span class="keycode">Ctrl</span></span></span><span class="keycode"> + P</span> {p2b}</p>
<h2 id="hd_idempty" dir="auto">  <a name="x"></a> </h2>
<ol itemprop="HowTo" dir="auto">
<li itemprop="itemListElement" dir="auto"><p id="par_id3" class="listitem" dir="auto">{p3a}&nbsp;<a target="_top" href="{lang}/text/x.html"><span class="menuitem">{p3b}</span></a> &amp; {p3c}</p></li>
</ol>
<p id="bm_id101" dir="auto"></p>
<h2 id="hd_id2" dir="auto">{h2}</h2>
<p id="par_id4" class="paragraph" dir="auto">{p4}<script type="text/javascript">var hidden = "script text";</script></p>
{p5_element}
<p id="par_idcode" class="code" dir="auto">Sub Main : Print 42 : End Sub</p>
<h3 id="hd_id3" dir="auto">{h3}</h3>
<div class="note"><div class="noteicon" dir="auto"><img src="media/note.svg" alt="note icon text"></div>
<div class="notetext"><p id="par_id6" dir="auto">{p6a}<br>{p6b}</p></div></div>
<span id="swlnsystextswriterguide_2" class="switch">
<span hidden="true" id="UNIXtextswriterguide_2" class="UNIX"><p id="par_id7" class="paragraph" dir="auto">{p7}</p></span>
<span hidden="true" id="MACtextswriterguide_2" class="MAC"><p id="par_id9" class="paragraph" dir="auto">{p9}</p></span>
</span>
<span hidden="true" id="stray_hidden"><p id="par_idhidden" dir="auto">{p9}</p></span>
<p id="par_id8" class="tablecontentintable" dir="auto">{p8}</p>
<div class="embedded"><a name="again"></a><p id="par_id1" class="paragraph" dir="auto">{p1a} again</p></div>
<a name="relatedtopics"></a><div class="relatedtopics">
<p class="related" itemprop="mentions" dir="auto"><a name="related"></a><span class="emph">{related}</span></p>
<div class="relatedbody" itemprop="mentions">
<p id="par_idrel" class="paragraph" dir="auto"><a target="_top" href="{lang}/text/y.html">{rel}</a></p>
</div></div>
"""

FUNC_SUM = """<h1 id="hd_idsum" dir="auto">{sum_h1}</h1>
<p id="par_idsum" class="paragraph" dir="auto">{sum_p1} <span id="swlnappltextscalc01_1" class="switchinline"><span hidden="true" id="CALCtextscalc01_1" class="CALC">{calc_word}</span><span hidden="true" id="WRITERtextscalc01_1" class="WRITER">{writer_word}</span><span hidden="true" id="defaulttextscalc01_1">{default_word}</span></span>.</p>
<div class="embedded"><a name="syntax"></a>
<h2 id="hd_idsyn" dir="auto">{syn_h}</h2>
<p id="par_idsyn" class="paragraph" dir="auto">{syn_p}</p>
</div>
"""

ABOUT = """<h1 id="bm_id200" dir="auto"><a name="about"></a><span class="literal">{about_h1}</span></h1>
<p id="par_idabout" class="paragraph" dir="auto">{about_p} <span id="swlnappltextshared01_1" class="switchinline"><span hidden="true" id="CALCtextshared01_1" class="CALC">{calc_word}</span><span hidden="true" id="defaulttextshared01_1">{default_word}</span></span>.</p>
{extra}<h2 id="hd_idsyn" dir="auto">{syn_h}</h2>
<p id="par_idsyn" class="paragraph" dir="auto">{syn_p}</p>
"""

EN = {
    "title_print": "Printing Several Pages on One Sheet",
    "h1": "Printing Several Pages on One Sheet",
    "p1a": "The",
    "p1b": "Page Layout",
    "p1c": "area of the print dialog lets you place several pages on one sheet.",
    "howhead": "To access this command...",
    "how": "Choose File - Print",
    "p2a": "Press",
    "p2b": "to open the print dialog quickly.",
    "p3a": "Open",
    "p3b": "Format - Page",
    "p3c": "set the number of columns.",
    "h2": "Printing in reverse order",
    "p4": "Select the reverse option to print the last page first.",
    "p5": "The reverse order is kept for the next print job too.",
    "h3": "Notes",
    "p6a": "Small printers may not support",
    "p6b": "every paper size in this list.",
    "p7": "On Linux the printer list comes from the print system.",
    "p8": "Pages per sheet and their order",
    "p9": "On macOS the printer list comes from the system settings.",
    "related": "Related Topics",
    "rel": "Previewing a page before printing",
    "title_sum": "SUM function",
    "sum_h1": "SUM",
    "sum_p1": "Adds all numbers in the selected",
    "calc_word": "cells",
    "writer_word": "table cells",
    "default_word": "objects",
    "syn_h": "Syntax",
    "syn_p": "Write the function name followed by its arguments in brackets.",
    "title_about": "About the office suite",
    "about_h1": "About the office suite",
    "about_p": "This page describes the suite and its",
    "extra": "",
}

DE = {
    **EN,
    "title_print": "Mehrere Seiten auf ein Blatt drucken",
    "h1": "Mehrere Seiten auf ein Blatt drucken",
    "p1a": "Im",
    "p1b": "Seitenlayout",
    "p1c": "Bereich des Druckdialogs legen Sie mehrere Seiten auf ein Blatt.",
    "howhead": "So erreichen Sie diesen Befehl...",
    "how": "Wählen Sie Datei - Drucken",
    "p2a": "Drücken Sie",
    "p2b": "um den Druckdialog schnell zu öffnen.",
    "p3a": "Öffnen Sie",
    "p3b": "Format - Seite",
    "p3c": "legen Sie die Spaltenzahl fest.",
    "h2": "In umgekehrter Reihenfolge drucken",
    "p4": "Wählen Sie die Umkehroption, um die letzte Seite zuerst zu drucken.",
    "h3": "Hinweise",
    "p6a": "Kleine Drucker unterstützen eventuell nicht",
    "p6b": "jede Papiergröße dieser Liste.",
    "p7": "Unter Linux kommt die Druckerliste vom Drucksystem.",
    "p8": "Seiten pro Blatt und ihre Reihenfolge",
    "p9": "Unter macOS kommt die Druckerliste aus den Systemeinstellungen.",
    "related": "Verwandte Themen",
    "rel": "Seitenvorschau vor dem Drucken",
    "title_sum": "Funktion SUMME",
    "sum_h1": "SUMME",
    "sum_p1": "Addiert alle Zahlen in den ausgewählten",
    "calc_word": "Zellen",
    "writer_word": "Tabellenzellen",
    "default_word": "Objekten",
    "syn_h": "Syntax",  # identical to English: untranslated for de
    "syn_p": "Schreiben Sie den Funktionsnamen und die Argumente in Klammern.",
    "title_about": "Über die Office-Suite",
    "about_h1": "Über die Office-Suite",
    "about_p": "Diese Seite beschreibt die Suite und ihre",
    "extra": '<p id="par_idonlyde" class="paragraph" dir="auto">Nur im deutschen Text.</p>\n',
}


def _km(*words: str) -> str:
    return ZW.join(words)


KM = {
    **EN,
    "title_print": _km("ការ", "បោះពុម្ព", "ទំព័រ", "ច្រើន"),
    "h1": _km("ការ", "បោះពុម្ព", "ទំព័រ", "ច្រើន"),
    "p1a": _km("ផ្នែក"),
    "p1b": _km("ប្លង់", "ទំព័រ"),
    "p1c": _km("អនុញ្ញាត", "ឲ្យ", "ដាក់", "ទំព័រ", "ច្រើន"),
    "how": _km("ជ្រើស", "ឯកសារ"),
    # p2a/p2b stay English: par_id2 is untranslated in km
    "p3a": _km("បើក"),
    "p3b": _km("ទ្រង់ទ្រាយ"),
    "p3c": _km("កំណត់", "ជួរឈរ"),
    "h2": _km("បោះពុម្ព", "បញ្ច្រាស"),
    "p4": _km("ជ្រើស", "ជម្រើស", "បញ្ច្រាស"),
    "p5": _km("លំដាប់", "បញ្ច្រាស", "ត្រូវ", "រក្សា"),
    "h3": _km("ចំណាំ"),
    "p6a": _km("ម៉ាស៊ីន", "បោះពុម្ព", "តូច"),
    "p6b": _km("ទំហំ", "ក្រដាស"),
    "p7": _km("លើ", "លីនុច"),
    "p8": _km("ទំព័រ", "ក្នុង", "មួយ", "សន្លឹក"),
    "title_about": _km("អំពី", "ឈុត"),
    "about_h1": _km("អំពី", "ឈុត"),
    "about_p": _km("ទំព័រ", "នេះ", "ពិពណ៌នា"),
    "calc_word": _km("ក្រឡា"),
    "default_word": _km("វត្ថុ"),
    "syn_h": _km("វាក្យសម្ព័ន្ធ"),
    "syn_p": _km("សរសេរ", "ឈ្មោះ", "អនុគមន៍"),
}

P5 = '<p id="par_id5" class="paragraph" dir="auto">{p5}</p>'

PAGES = {
    "text/swriter/guide/print_small.html": ("title_print", PRINT_SMALL),
    "text/scalc/01/func_sum.html": ("title_sum", FUNC_SUM),
    "text/shared/01/about.html": ("title_about", ABOUT),
}

FOLDERS = {"en-US": EN, "de": DE, "km": KM}


def render(folder: str, path: str) -> str:
    """The HTML of one fixture page in one language folder."""
    strings = FOLDERS[folder]
    title_key, body = PAGES[path]
    p5 = "" if folder == "de" else P5.format(**strings)
    html = CHROME_TOP.format(lang=folder, title=strings[title_key])
    html += body.format(lang=folder, p5_element=p5, **strings)
    html += CHROME_BOTTOM.format(path=path)
    return html


def write_help_tree(root: Path, folders: tuple[str, ...] = ("en-US", "de", "km")) -> Path:
    """Write the fixture pages under ``root/<folder>/text/...`` (km lacks func_sum.html); returns ``root``."""
    for folder in folders:
        for path in PAGES:
            if folder == "km" and path.startswith("text/scalc/"):
                continue
            f = root / folder / path
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(render(folder, path), encoding="utf-8")
        (root / folder / "contents.js").write_text("var contents = [];\n", encoding="utf-8")
    return root
