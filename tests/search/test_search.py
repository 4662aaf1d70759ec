"""Message search over encrypted bodies through the blind index: matching (all words,
case and accents ignored, prefixes), access (only channels the person may read now),
the index itself (no words stored), the page, the API and the audit of case channels."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, func, select

from network.errors import NotFound, ValidationError
from network.models.messaging import ChannelMember, MessageTerm
from network.models.people import AuditEvent
from network.services import messaging, search
from tests.search.conftest import CASE, TOPIC, private_channel, say


def _found(user, query, **options) -> list[int]:
    return [hit.message.id for hit in search.search_messages(user, query, **options).items]


# --- Words --------------------------------------------------------------------------------


def test_words_are_folded_and_cut_at_everything_but_letters_and_digits():
    assert search.words("Request **MLA/2026/17**: l'EXTRADITION vers le Bénin, Straße") == [
        "request",
        "mla",
        "2026",
        "17",
        "extradition",
        "vers",
        "le",
        "benin",
        "strasse",
    ]


def test_chinese_text_is_indexed_by_pairs_of_characters():
    assert search.words("引渡请求") == ["引渡", "渡请", "请求"]


def test_longer_words_are_also_indexed_by_their_prefixes_from_three_letters():
    assert search.index_words("Dakar to") == {"dak", "daka", "dakar", "to"}


# --- Matching -------------------------------------------------------------------------------


def test_a_member_finds_a_message_whatever_the_case_and_accents(room):
    message = say(room.channel, room.contact_point, "Demande d'EXTRADITION vers le Bénin")
    say(room.channel, room.contact_point, "Something else entirely")
    assert _found(room.observer, "benin extradition") == [message.id]
    assert _found(room.observer, "BÉNIN") == [message.id]


def test_every_word_of_the_query_must_be_in_the_message(room):
    say(room.channel, room.contact_point, "Hearing in Dakar on Monday")
    assert _found(room.observer, "dakar paris") == []


def test_a_word_of_three_letters_or_more_finds_longer_words_two_letters_only_whole_ones(room):
    message = say(room.channel, room.contact_point, "The extradition file is complete")
    assert _found(room.observer, "extrad") == [message.id]
    assert _found(room.observer, "ex") == []
    assert _found(room.observer, "is") == [message.id]


def test_results_are_newest_first_and_paginated(room):
    ids = [say(room.channel, room.contact_point, f"Rogatory letter {n}").id for n in range(5)]
    first = search.search_messages(room.observer, "rogatory", per_page=2)
    assert first.total == 5
    assert [h.message.id for h in first.items] == ids[::-1][:2]
    third = search.search_messages(room.observer, "rogatory", per_page=2, page=3)
    assert [h.message.id for h in third.items] == [ids[0]]


def test_an_edited_message_is_found_by_its_new_words_only(room):
    message = say(room.channel, room.contact_point, "Meeting in Lomé")
    messaging.edit_message(message.id, room.contact_point, "Meeting in Accra")
    assert _found(room.observer, "accra") == [message.id]
    assert _found(room.observer, "lome") == []


def test_a_deleted_message_is_not_found_and_leaves_no_index_rows(room, db):
    message = say(room.channel, room.contact_point, "Withdrawn request Niamey")
    messaging.delete_message(message.id, room.contact_point)
    assert _found(room.observer, "niamey") == []
    rows = db.session.scalar(
        select(func.count()).select_from(MessageTerm).where(MessageTerm.message_id == message.id)
    )
    assert rows == 0


@pytest.mark.parametrize("query", ["", "   ", "a", "!! ?", "x" * 201, " ".join("abcdefghi")])
def test_a_query_without_words_or_too_long_is_refused(room, query):
    with pytest.raises(ValidationError) as error:
        search.search_messages(room.observer, query)
    assert "q" in error.value.fields


# --- Access ---------------------------------------------------------------------------------


def test_a_member_of_another_network_finds_nothing_in_this_one(room):
    say(room.channel, room.contact_point, "Asset recovery in Abidjan")
    assert _found(room.outsider, "abidjan") == []


def test_a_person_removed_from_a_channel_no_longer_finds_its_messages(room, db):
    topic = private_channel(TOPIC, room.network, "Working group", room.contact_point, room.observer)
    message = say(topic, room.contact_point, "Confidential Bamako seizure")
    assert _found(room.observer, "bamako") == [message.id]
    assert _found(room.coordinator, "bamako") == []  # not a member of the working group
    db.session.execute(
        delete(ChannelMember).where(
            ChannelMember.channel_id == topic.id, ChannelMember.user_id == room.observer.id
        )
    )
    db.session.commit()
    db.session.expire_all()
    assert _found(room.observer, "bamako") == []
    assert _found(room.contact_point, "bamako") == [message.id]


def test_the_channel_filter_narrows_and_refuses_a_channel_the_person_cannot_read(room):
    topic = private_channel(TOPIC, room.network, "Working group", room.contact_point)
    in_topic = say(topic, room.contact_point, "Freezing order Conakry")
    in_network = say(room.channel, room.contact_point, "Freezing order Conakry too")
    assert _found(room.contact_point, "conakry", channel_id=topic.id) == [in_topic.id]
    assert _found(room.contact_point, "conakry", channel_id=room.channel.id) == [in_network.id]
    with pytest.raises(NotFound):
        search.search_messages(room.observer, "conakry", channel_id=topic.id)


def test_showing_case_channel_messages_in_results_is_audited(room, db):
    case = private_channel(CASE, room.network, "Case MLA/2026/4", room.contact_point)
    message = say(case, room.contact_point, "Bank records from Cotonou")
    say(room.channel, room.contact_point, "Cotonou weather")
    search.search_messages(room.contact_point, "cotonou")
    [event] = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "case_channel.read", AuditEvent.channel_id == case.id
        )
    )
    assert event.actor_id == room.contact_point.id
    assert event.after == {"via": "search", "seqs": [message.seq]}


# --- The index ------------------------------------------------------------------------------


def test_the_index_holds_keyed_hashes_not_words(room, db):
    message = say(room.channel, room.contact_point, "Ouagadougou")
    terms = list(
        db.session.scalars(select(MessageTerm.term).where(MessageTerm.message_id == message.id))
    )
    # The word and its prefixes from three letters: "oua", "ouag", … "ouagadougou".
    assert len(terms) == len("ouagadougou") - 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in terms)
    assert not any("oua" in t for t in terms)


# --- Snippets -------------------------------------------------------------------------------


def test_the_snippet_escapes_the_text_then_marks_the_matches():
    snippet = search.snippet("<b>Señor</b> & the <script>extradition</script>", ["senor", "extr"])
    assert str(snippet) == (
        "&lt;b&gt;<mark>Señor</mark>&lt;/b&gt; &amp; the &lt;script&gt;"
        "<mark>extradition</mark>&lt;/script&gt;"
    )


def test_a_long_message_is_cut_around_the_first_match():
    text = "word " * 200 + "Kinshasa " + "more " * 200
    snippet = str(search.snippet(text, ["kinshasa"]))
    assert "<mark>Kinshasa</mark>" in snippet
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert len(snippet) < 300


# --- Page and API ---------------------------------------------------------------------------


def test_the_search_page_lists_hits_with_channel_author_and_a_link_to_the_message(
    client, login, room
):
    message = say(room.channel, room.contact_point, "Hearing about <script>x</script> Freetown")
    login(client, room.observer)
    page = client.get("/search?q=freetown").get_data(as_text=True)
    assert f'<a href="/channels/{room.channel.id}#m{message.seq}" dir="auto">WACAP</a>' in page
    assert room.contact_point.name in page
    assert "&lt;script&gt;x&lt;/script&gt; <mark>Freetown</mark>" in page
    assert "<script>x</script>" not in page


def test_the_search_page_shows_why_a_query_is_refused(client, login, room):
    login(client, room.observer)
    response = client.get("/search?q=a")
    assert response.status_code == 200
    assert "Search for words of two letters or more." in response.get_data(as_text=True)


def test_the_search_page_needs_a_signed_in_person(client):
    response = client.get("/search?q=anything")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_api_answers_a_paginated_list(client, login, room):
    first = say(room.channel, room.contact_point, "Monrovia request")
    second = say(room.channel, room.contact_point, "Monrovia reply")
    login(client, room.observer)
    body = client.get("/api/v1/search?q=monrovia&per_page=1&page=2").get_json()
    assert body["total"] == 2
    assert body["page"] == 2
    assert body["per_page"] == 1
    [item] = body["items"]
    assert item["id"] == first.id
    assert item["seq"] == first.seq
    assert item["channel"]["id"] == room.channel.id
    assert item["channel"]["network"] == "wacap"
    assert item["author"]["name"] == room.contact_point.name
    assert item["snippet"] == "<mark>Monrovia</mark> request"
    assert item["url"] == f"/channels/{room.channel.id}#m{first.seq}"
    narrowed = client.get(f"/api/v1/search?q=reply&channel_id={room.channel.id}").get_json()
    assert [i["id"] for i in narrowed["items"]] == [second.id]


def test_the_api_refuses_bad_input_as_json(client, login, room):
    login(client, room.observer)
    empty = client.get("/api/v1/search?q=")
    assert empty.status_code == 422
    assert "q" in empty.get_json()["error"]["fields"]
    assert client.get("/api/v1/search?q=abc&page=x").status_code == 422
    assert client.get("/api/v1/search?q=abc&page=0").status_code == 422
    assert client.get("/api/v1/search?q=abc&per_page=1000").status_code == 422


def test_the_api_hides_a_channel_the_caller_cannot_read(client, login, room):
    topic = private_channel(TOPIC, room.network, "Working group", room.contact_point)
    login(client, room.observer)
    response = client.get(f"/api/v1/search?q=abc&channel_id={topic.id}")
    assert response.status_code == 404


def test_the_api_needs_authentication(client):
    response = client.get("/api/v1/search?q=abc")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_the_api_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/search" in document["paths"]
