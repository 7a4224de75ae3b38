"""Signed, expiring links: a forged, altered, repurposed or expired token is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.kernel import signing
from tocsin.notifications.links import LinkMaker, expand, read_incident_action, read_test_ack

KEY = b"k" * 32
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def test_a_token_round_trips_until_it_expires() -> None:
    token = signing.sign(KEY, "p", {"x": 1}, expires_at=NOW + timedelta(hours=1))
    assert signing.verify(KEY, "p", token, now=NOW)["x"] == 1
    with pytest.raises(signing.BadSignature) as exc:
        signing.verify(KEY, "p", token, now=NOW + timedelta(hours=1))
    assert exc.value.code == "link.expired"


def test_another_key_or_purpose_is_refused() -> None:
    token = signing.sign(KEY, "p", {"x": 1}, expires_at=NOW + timedelta(hours=1))
    with pytest.raises(signing.BadSignature):
        signing.verify(b"other", "p", token, now=NOW)
    with pytest.raises(signing.BadSignature):
        signing.verify(KEY, "q", token, now=NOW)


@given(st.text(max_size=300))
def test_arbitrary_text_is_never_accepted(token: str) -> None:
    with pytest.raises(signing.BadSignature):
        signing.verify(KEY, "p", token, now=NOW)


@given(position=st.integers(0, 10_000), char=st.sampled_from("AbZ09-_."))
def test_changing_any_character_breaks_the_token(position: int, char: str) -> None:
    token = signing.sign(KEY, "p", {"i": "x"}, expires_at=NOW + timedelta(hours=1))
    i = position % len(token)
    forged = token[:i] + char + token[i + 1 :]
    if forged == token:
        return
    try:
        data = signing.verify(KEY, "p", forged, now=NOW)
    except signing.BadSignature:
        return
    # Base64 padding bits can change without changing the decoded bytes: same payload only.
    assert data == signing.verify(KEY, "p", token, now=NOW)


def test_incident_links_name_the_person_incident_and_action() -> None:
    maker = LinkMaker("https://tocsin.example/", KEY)
    incident, user = uuid.uuid4(), uuid.uuid4()
    url = maker.incident_action(incident_id=incident, user_id=user, action="ack", now=NOW)
    assert url.startswith("https://tocsin.example/a/")
    action = read_incident_action(KEY, url.rsplit("/", 1)[1], now=NOW)
    assert (action.incident_id, action.user_id, action.action) == (incident, user, "ack")
    test_url = maker.test_ack(test_id=incident, user_id=user, now=NOW)
    assert read_test_ack(KEY, test_url.rsplit("/", 1)[1], now=NOW) == (incident, user)
    with pytest.raises(signing.BadSignature):  # a test link is not an incident link
        read_incident_action(KEY, test_url.rsplit("/", 1)[1], now=NOW)


def test_expand_fills_placeholders_at_send_time() -> None:
    maker = LinkMaker("https://tocsin.example", KEY)
    context = {
        "incident_id": str(uuid.uuid4()),
        "link_user_id": str(uuid.uuid4()),
        "incident_number": 7,
    }
    text, urls = expand(
        maker, "ack: {ack_url} open: {incident_url} all: {base_url}/x", context, now=NOW
    )
    assert "{" not in text
    assert urls["incident_url"] == "https://tocsin.example/incidents/7"
    assert text.startswith("ack: https://tocsin.example/a/")
    assert (
        read_incident_action(KEY, urls["resolve_url"].rsplit("/", 1)[1], now=NOW).action
        == "resolve"
    )
