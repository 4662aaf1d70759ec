"""Names and other values people typed are isolated inside translated sentences, so that a
Latin name in an Arabic sentence (or an Arabic name in an English one) does not reorder the
punctuation around it: <bdi> in pages (the Jinja filter ``bdi``), the Unicode isolates FSI
and PDI where markup cannot go (page titles, flash messages). Escaping stays as it was."""

from __future__ import annotations

from flask import render_template_string
from markupsafe import Markup

from network import i18n
from network.extensions import db as _db

HOSTILE = 'Ada <script>alert("x")</script>'
ESCAPED = "Ada &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


def test_the_value_is_escaped_and_the_bdi_tags_are_markup(app):
    with app.test_request_context():
        isolated = i18n.isolate(HOSTILE)
        assert isinstance(isolated, Markup)
        assert str(isolated) == f"<bdi>{ESCAPED}</bdi>"
        assert i18n.isolate(HOSTILE, markup=False) == f"\u2068{HOSTILE}\u2069"
        page = render_template_string('{{ _("Edit %(name)s", name=n|bdi) }}', n=HOSTILE)
        assert page == f"Edit <bdi>{ESCAPED}</bdi>"
        # In a title the isolates are text, escaped with the rest.
        title = render_template_string(
            '{{ _("Edit %(name)s", name=n|bdi(markup=false)) }}', n=HOSTILE
        )
        assert title == f"Edit \u2068{ESCAPED}\u2069"


def test_an_arabic_page_isolates_the_latin_name_of_its_reader(client, login, make_user):
    reader = make_user()
    reader.name = HOSTILE
    _db.session.commit()
    login(client, reader)
    page = client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert f"<h1>مرحبًا، <bdi>{ESCAPED}</bdi></h1>" in page
    assert "<script>alert" not in page


def test_a_page_title_isolates_the_name_without_markup(
    client, login, make_user, make_contact_point
):
    entry = make_contact_point(name=HOSTILE, networks=["wacap"])
    login(client, make_user(admin=True))
    page = client.get(f"/directory/{entry.id}/edit", headers={"Accept-Language": "ar"}).get_data(
        as_text=True
    )
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith(f"تعديل \u2068{ESCAPED}\u2069 · ")
    assert "<bdi>" not in title
    assert f"<h1>تعديل <bdi>{ESCAPED}</bdi></h1>" in page
