"""Message bodies: Markdown rendering, HTML sanitising and @mentions (network/sanitize.py).

The safety properties are checked on the *output*, parsed the way a browser parses it
(html5lib, which implements the WHATWG parsing algorithm, in a ``div`` context) and,
as a second opinion, by Python's ``html.parser``: no element outside the allowlist, no
event handler, ``style`` or ``srcdoc`` attribute, no URL outside http/https/mailto,
and cleaning twice equals cleaning once. Hypothesis feeds a corpus of known XSS and
mutation-XSS vectors, combinations of them with random glue, and arbitrary text.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

# The vendored copy of html5lib that bleach ships is the only WHATWG parser installed.
# The tests use its standard tokenizer and tree builder, not bleach's sanitising shims.
from bleach._vendor import html5lib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from network import sanitize
from network.sanitize import ALLOWED_PROTOCOLS, ALLOWED_TAGS, clean_html, mentions, render_markdown

PACKAGE_DIR = Path(sanitize.__file__).resolve().parent

# Elements that must never reach a page, whatever the allowlist says.
FORBIDDEN_TAGS = frozenset(
    {
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "math",
        "form",
        "input",
        "button",
        "textarea",
        "select",
        "meta",
        "link",
        "base",
        "img",
        "image",
        "video",
        "audio",
        "source",
        "template",
        "noscript",
        "xmp",
        "plaintext",
        "portal",
    }
)
# What each allowed element may carry on output (``rel`` is added by the sanitiser).
OUTPUT_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
}
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "data", "poster", "background", "cite", "srcset"}
)
SAFE_URL = re.compile(r"(?:https?://|mailto:)")
URL_NOISE = re.compile(r"[\x00-\x20\x7f-\xa0\s]+")
CODE_CLASS = re.compile(r"language-[a-z0-9+-]+")

# Known XSS and mutation-XSS vectors: raw HTML, Markdown links/images/autolinks and
# reference links, encoded and split schemes, parser-differential tricks.
XSS_CORPUS: list[str] = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script/xss src=https://evil.example/x.js></script>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<IMG SRC=javascript:alert('XSS')>",
    '<img src="x` `<script>alert(1)</script>"` `>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">X</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    (
        "<math><mtext><table><mglyph><style><!--</style>"
        '<img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">'
    ),
    '<math href="javascript:alert(1)">CLICK</math>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!--><img src=x onerror=alert(1)>-->",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    "<![CDATA[<img src=x onerror=alert(1)>]]>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
    "<form action=javascript:alert(1)><input type=submit></form>",
    '<form><button formaction="javascript:alert(1)">x</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="x:expression(alert(1))">x</p>',
    "<style>@import 'https://evil.example/x.css';</style>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="java\tscript:alert(1)">click</a>',
    '<a href="java\nscript:alert(1)">click</a>',
    '<a href=" \x01javascript:alert(1)">click</a>',
    '<a href="javascript&#58;alert(1)">click</a>',
    '<a href="javascript&colon;alert(1)">click</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "<a href=`javascript:alert(1)`>x</a>",
    '<a href="https://ok.example" onclick="alert(1)" target="_blank" rel="opener">x</a>',
    '<a href="https://ok.example" style="position:fixed;top:0">x</a>',
    '<a href="//evil.example/">protocol-relative</a>',
    '<a href="/relative">relative</a>',
    "<a href='https://ok.example/' title='\"><script>alert(1)</script>'>x</a>",
    '<p title="</p><script>alert(1)</script>">x</p>',
    '<code class="language-js" onmouseover="alert(1)">x</code>',
    '<code class="x" style="color:red">x</code>',
    '<td style="text-align:left" onclick="alert(1)">x</td>',
    "<table><tr><td>x</td></tr><img src=x onerror=alert(1)></table>",
    "<select><template><style><img src=x onerror=alert(1)></style></template></select>",
    '<xmp><p title="</xmp><img src=x onerror=alert(1)>">',
    "<textarea><img src=x onerror=alert(1)></textarea>",
    "<title><img src=x onerror=alert(1)></title>",
    "<plaintext><script>alert(1)</script>",
    '<details open ontoggle="alert(1)">',
    '<body onload="alert(1)">',
    '<video><source onerror="alert(1)"></video>',
    "<b onmouseover=alert(1)>hover</b>",
    "<p><a href='https://ok.example'><p>nested</a></p>",
    "<img src=x onerror=alert(1)",
    '<a href="javascript:alert(1)',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](java%0ascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](<javascript:alert(1)>)",
    '[click](https://ok.example "title\\" onmouseover=\\"alert(1)")',
    "[click](https://ok.example 'a\" onclick=\"alert(1)')",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    '[click][ref]\n\n[ref]: https://ok.example "x\\" onclick=\\"alert(1)"',
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x"onerror="alert(1)](https://ok.example/a.png)',
    "[![x](https://ok.example/a.png)](javascript:alert(1))",
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | <img src=x onerror=alert(1)> |",
    "| a |\n|:-:|\n| [x](javascript:alert(1)) |",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    '```js" onclick="alert(1)\nx\n```',
    "    <img src=x onerror=alert(1)>",
    "> <iframe src=javascript:alert(1)>",
    "**<img src=x onerror=alert(1)>**",
    "*[x](javascript:alert(1))*",
    "[a](https://ok.example)<svg onload=alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "\\<script>alert(1)\\</script>",
]

GLUE_ALPHABET = "<>\"'`=&;:/ \t\nabcxyjavscript#!-*_[]()|\\"
MARKDOWN_GLUE = [
    "",
    "**",
    "*",
    "_",
    "`",
    "```\n",
    "~~",
    "> ",
    "- ",
    "1. ",
    "# ",
    "\n\n",
    "\n",
    "    ",
    "[",
    "](",
    ")",
    "<",
    ">",
    "| a |\n|---|\n| ",
    " |",
    "<a href='https://ok.example'>",
    "</a>",
    "<p title='",
    "'>",
    "<table>",
    "<pre>",
    "<!--",
    "-->",
    "&",
    "&#",
    "javascript:",
]

vectors = st.sampled_from(XSS_CORPUS)
glue = st.text(alphabet=GLUE_ALPHABET, max_size=12) | st.sampled_from(MARKDOWN_GLUE)
combined = st.tuples(glue, vectors, glue, vectors, glue).map("".join)
# Not the hypothesis example database: the same examples on every machine and run.
DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class _TagCollector(HTMLParser):
    """Python's own HTML tokenizer, as a second parser next to html5lib."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _elements(output: str) -> list[tuple[str, dict[str, str]]]:
    """(tag, attributes) of every element, as html5lib and as html.parser see them."""
    found: list[tuple[str, dict[str, str]]] = []
    fragment = html5lib.parseFragment(output, container="div", namespaceHTMLElements=False)
    for element in fragment.iter():
        if not isinstance(element.tag, str) or element.tag == "DOCUMENT_FRAGMENT":
            continue
        # Foreign (svg/math) elements and attributes carry a "{namespace}" prefix.
        tag = element.tag.rsplit("}", 1)[-1]
        attrs = {name.rsplit("}", 1)[-1]: value for name, value in element.attrib.items()}
        found.append((tag, attrs))
    collector = _TagCollector()
    collector.feed(output)
    collector.close()
    found.extend((tag, {n: v or "" for n, v in attrs}) for tag, attrs in collector.tags)
    return found


def assert_safe(output: str) -> None:
    """Fail unless ``output`` is inert HTML within the allowlist."""
    for tag, attrs in _elements(output):
        assert tag not in FORBIDDEN_TAGS, (tag, output)
        assert tag in ALLOWED_TAGS, (tag, output)
        for name, value in attrs.items():
            lowered = name.lower()
            assert not lowered.startswith("on"), (tag, name, output)
            assert lowered not in {"style", "srcdoc"}, (tag, name, output)
            assert lowered in OUTPUT_ATTRIBUTES.get(tag, set()), (tag, name, output)
            if lowered in URL_ATTRIBUTES:
                normalized = URL_NOISE.sub("", value).lower()
                assert SAFE_URL.match(normalized), (tag, name, value, output)
                assert normalized.split(":", 1)[0] in ALLOWED_PROTOCOLS
        if tag == "a":
            assert "href" in attrs, output
            assert attrs.get("rel") == "noopener noreferrer", output
        if tag == "code" and "class" in attrs:
            assert CODE_CLASS.fullmatch(attrs["class"]), output


def assert_stable(output: str) -> None:
    assert clean_html(output) == output


# --- the oracle itself can fail --------------------------------------------------------


@pytest.mark.parametrize(
    "unsafe",
    [
        "<script>alert(1)</script>",
        "<img src=x>",
        '<p onclick="x">a</p>',
        '<p style="color:red">a</p>',
        '<a href="javascript:alert(1)" rel="noopener noreferrer">a</a>',
        '<a href="java&#x09;script:alert(1)" rel="noopener noreferrer">a</a>',
        '<a href="/relative" rel="noopener noreferrer">a</a>',
        '<a href="https://ok.example">no rel</a>',
        "<svg></svg>",
        '<code class="x">a</code>',
    ],
)
def test_safety_check_rejects_unsafe_html(unsafe: str) -> None:
    with pytest.raises(AssertionError):
        assert_safe(unsafe)


def test_safety_check_accepts_what_the_sanitiser_allows() -> None:
    assert_safe(
        '<p><a href="https://ok.example/?a=1&amp;b=2" rel="noopener noreferrer" title="t">x'
        '</a> <strong>b</strong></p><pre><code class="language-py">x</code></pre>'
    )


# --- the corpus, one vector at a time -------------------------------------------------


@pytest.mark.parametrize("vector", XSS_CORPUS)
def test_xss_vector_rendered_as_markdown_is_inert(vector: str) -> None:
    output = render_markdown(vector)
    assert_safe(output)
    assert_stable(output)


@pytest.mark.parametrize("vector", XSS_CORPUS)
def test_xss_vector_cleaned_as_html_is_inert(vector: str) -> None:
    output = clean_html(vector)
    assert_safe(output)
    assert_stable(output)


def test_corpus_is_large_and_has_no_duplicates() -> None:
    assert len(XSS_CORPUS) >= 60
    assert len(set(XSS_CORPUS)) == len(XSS_CORPUS)


# --- properties ------------------------------------------------------------------------


@settings(DETERMINISTIC, max_examples=300)
@given(combined)
def test_combined_vectors_rendered_as_markdown_are_inert_and_stable(text: str) -> None:
    output = render_markdown(text)
    assert_safe(output)
    assert_stable(output)


@settings(DETERMINISTIC, max_examples=400)
@given(combined)
def test_combined_vectors_cleaned_as_html_are_inert_and_stable(text: str) -> None:
    output = clean_html(text)
    assert_safe(output)
    assert_stable(output)


@settings(DETERMINISTIC, max_examples=200)
@given(st.text(), vectors, st.text())
def test_vectors_inside_arbitrary_text_are_inert(prefix: str, vector: str, suffix: str) -> None:
    for output in (render_markdown(prefix + vector + suffix), clean_html(prefix + vector + suffix)):
        assert_safe(output)
        assert_stable(output)


@settings(DETERMINISTIC, max_examples=300)
@given(st.text())
def test_any_text_renders_and_cleans_to_a_fixed_point(text: str) -> None:
    rendered = render_markdown(text)
    cleaned = clean_html(text)
    assert_safe(rendered)
    assert_safe(cleaned)
    assert_stable(rendered)
    assert_stable(cleaned)


@settings(DETERMINISTIC, max_examples=300)
@given(st.text(alphabet=GLUE_ALPHABET + "<>&#;pretbl\r\x00", max_size=60))
def test_markup_heavy_text_cleans_to_a_fixed_point(text: str) -> None:
    cleaned = clean_html(text)
    assert_safe(cleaned)
    assert_stable(cleaned)


# The shortcut for plain paragraphs (render_markdown skips bleach when markdown-it's
# output is one paragraph of plain text) must give exactly what bleach gives.
plain_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]) | st.sampled_from(" .,;:!?-_*#\\`~"),
    max_size=80,
)


@settings(DETERMINISTIC, max_examples=600)
@given(plain_text)
def test_plain_paragraph_shortcut_equals_bleach(text: str) -> None:
    rendered = sanitize._markdown.render(text)
    assert render_markdown(text) == clean_html(rendered)


@pytest.mark.parametrize(
    "text",
    ["Extradition request received", "Réponse: demain 10 h", "\ufdd0x", "tab\there", "a\u0085b"],
)
def test_plain_paragraph_shortcut_equals_bleach_on_edge_characters(text: str) -> None:
    assert render_markdown(text) == clean_html(sanitize._markdown.render(text))


# --- what a user notices ---------------------------------------------------------------


def test_bold_and_emphasis() -> None:
    assert render_markdown("**urgent** and *soon*") == (
        "<p><strong>urgent</strong> and <em>soon</em></p>\n"
    )


def test_link_gets_noopener_noreferrer() -> None:
    assert render_markdown("[treaty](https://example.org/treaty?a=1&b=2)") == (
        '<p><a href="https://example.org/treaty?a=1&amp;b=2" rel="noopener noreferrer">'
        "treaty</a></p>\n"
    )


def test_rel_and_target_from_html_are_replaced() -> None:
    assert clean_html('<a target="_blank" rel="opener" href="https://example.org">x</a>') == (
        '<a href="https://example.org" rel="noopener noreferrer">x</a>'
    )


def test_mailto_link_works() -> None:
    assert render_markdown("write to [the desk](mailto:desk@example.org)") == (
        '<p>write to <a href="mailto:desk@example.org" rel="noopener noreferrer">the desk</a></p>\n'
    )
    assert render_markdown("<mailto:desk@example.org>") == (
        '<p><a href="mailto:desk@example.org" rel="noopener noreferrer">'
        "mailto:desk@example.org</a></p>\n"
    )


def test_javascript_link_loses_its_href_and_keeps_its_text() -> None:
    assert clean_html('<a href="javascript:alert(1)">see the file</a>') == "see the file"
    rendered = render_markdown("[see the file](javascript:alert(1))")
    assert "see the file" in rendered
    assert "<a" not in rendered


def test_relative_links_and_fragments_are_dropped() -> None:
    assert render_markdown("[case](/cases/12) and [top](#top)") == "<p>case and top</p>\n"


def test_html_typed_in_a_message_shows_as_text() -> None:
    assert render_markdown("<b>hi</b>") == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_code_block_keeps_its_content_escaped() -> None:
    assert render_markdown("```python\nif a < b and c > d:\n    x = '<script>'\n```") == (
        '<pre><code class="language-python">if a &lt; b and c &gt; d:\n'
        "    x = '&lt;script&gt;'\n</code></pre>\n"
    )
    assert render_markdown("`<img src=x>`") == "<p><code>&lt;img src=x&gt;</code></p>\n"


def test_code_class_other_than_a_language_is_dropped() -> None:
    assert clean_html('<code class="language-c++">x</code>') == (
        '<code class="language-c++">x</code>'
    )
    assert clean_html('<code class="hljs language-js">x</code>') == "<code>x</code>"


def test_image_renders_as_a_link_not_an_image() -> None:
    assert render_markdown('![scan of the request](https://example.org/a.png "page 1")') == (
        '<p><a href="https://example.org/a.png" rel="noopener noreferrer" title="page 1">'
        "scan of the request</a></p>\n"
    )
    assert render_markdown("![](https://example.org/a.png)") == (
        '<p><a href="https://example.org/a.png" rel="noopener noreferrer">'
        "https://example.org/a.png</a></p>\n"
    )
    assert render_markdown("[![logo](https://example.org/a.png)](https://example.org)") == (
        '<p><a href="https://example.org" rel="noopener noreferrer">logo</a></p>\n'
    )


def test_heading_is_downgraded_to_a_bold_paragraph() -> None:
    assert render_markdown("# Extradition request\ntext") == (
        "<p><strong>Extradition request</strong></p>\n<p>text</p>\n"
    )


def test_table_alignment_uses_align_not_style() -> None:
    rendered = render_markdown("| state | days |\n|:--|--:|\n| FR | 3 |")
    assert 'align="right"' in rendered
    assert "style" not in rendered
    assert "<table>" in rendered
    assert '<td align="left">FR</td>' in rendered


def test_single_newline_becomes_a_line_break_and_strikethrough_works() -> None:
    assert render_markdown("line one\n~~line two~~") == "<p>line one<br>\n<s>line two</s></p>\n"


def test_newlines_at_the_start_of_pre_survive_repeated_cleaning() -> None:
    cleaned = clean_html("<pre>\n\n\nx</pre>")
    assert cleaned == "<pre>\n\n\nx</pre>"
    assert_stable(cleaned)


def test_newline_after_an_unwrapped_link_at_the_start_of_pre_is_kept() -> None:
    cleaned = clean_html("<pre><a>\nx</a></pre>")
    assert cleaned == "<pre>\n\nx</pre>"
    assert_stable(cleaned)


def test_markup_that_parses_differently_once_written_is_cleaned_until_stable() -> None:
    # A link inside a table inside a link: html5lib nests them on the first parse and
    # un-nests them on the second, so one bleach pass is not a fixed point.
    cleaned = clean_html("<a href=https://a.example><table><a href=https://b.example>")
    assert cleaned == (
        '<a href="https://a.example" rel="noopener noreferrer"></a>'
        '<a href="https://b.example" rel="noopener noreferrer"></a><table></table>'
    )
    assert_stable(cleaned)


def test_attribute_values_survive_repeated_cleaning_unchanged() -> None:
    html = "<a href='https://a.example/?q=1&amp;r=2' title='say \"&lt;hi&gt;\" &amp; go'>x</a>"
    cleaned = clean_html(html)
    assert cleaned == (
        '<a href="https://a.example/?q=1&amp;r=2" rel="noopener noreferrer" '
        'title="say &quot;&lt;hi>&quot; &amp; go">x</a>'
    )
    assert_stable(cleaned)


def test_cleaning_that_never_settles_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sanitize, "_clean_once", lambda text: text + "x")
    with pytest.raises(ValueError, match="stable"):
        clean_html("a")


# --- mentions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@maria please check", ["maria"]),
        ("cc @maria, @jean-luc and @k.smith.", ["maria", "jean-luc", "k.smith"]),
        ("@Maria then @maria again, then @bob", ["maria", "bob"]),
        ("(@ana_b) and **@carl**", ["ana_b", "carl"]),
        ("write to maria@example.org", []),
        ("@maria@example.org is an address, not a mention", []),
        ("see https://social.example/@maria", []),
        ("see <https://social.example/@maria>", []),
        ("`@maria` in code", []),
        ("```\n@maria\n```", []),
        ("    @maria in an indented block", []),
        ("![@maria](https://example.org/a.png)", []),
        ("@x is too short", []),
        ("@" + "a" * 64 + " fits", ["a" * 64]),
        ("@" + "a" * 65 + " is too long", []),
        ("line\n@maria\n> @quoted", ["maria", "quoted"]),
        ("| who |\n|---|\n| @maria |", ["maria"]),
        ("[@maria](https://example.org)", ["maria"]),
    ],
)
def test_mentions(text: str, expected: list[str]) -> None:
    assert mentions(text) == expected


# --- the fence around bleach -----------------------------------------------------------


def _modules_importing_bleach() -> set[str]:
    """Package modules that import bleach, by AST and by a plain text search."""
    found: set[str] = set()
    text_import = re.compile(r"^\s*(?:import\s+bleach\b|from\s+bleach\b)", re.MULTILINE)
    for path in PACKAGE_DIR.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        relative = path.relative_to(PACKAGE_DIR.parent).as_posix()
        if text_import.search(source) or 'import_module("bleach' in source:
            found.add(relative)
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(name == "bleach" or name.startswith("bleach.") for name in names):
                found.add(relative)
    return found


def test_bleach_is_imported_only_by_the_sanitize_module() -> None:
    assert _modules_importing_bleach() == {"network/sanitize.py"}
