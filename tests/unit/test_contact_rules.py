"""Pure contact rules: addresses, the recommended rules, rule validation."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.kernel.errors import ValidationFailed
from tocsin.people import contact_rules as cr


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+14155550123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (415) 555-0123", "+14155550123"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+49.30.901820", "+4930901820"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw: str, expected: str) -> None:
    assert cr.check_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["4155550123", "+0155550123", "+1415555012345678", "+1-800-FLOWERS", "", "+12"]
)
def test_numbers_that_are_not_e164_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        cr.check_address("sms", raw or " ", allow_private=False)
    assert exc.value.fields[0].field == "address"


@given(st.text(max_size=40))
def test_any_text_either_is_e164_or_is_refused(raw: str) -> None:
    try:
        phone = cr.check_phone(raw)
    except ValidationFailed:
        return
    assert phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) <= 16


def test_emails_are_checked_and_normalised() -> None:
    assert cr.check_address("email", " Ada@Example.COM ", allow_private=False) == "Ada@example.com"
    with pytest.raises(ValidationFailed):
        cr.check_address("email", "not-an-email", allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "https://10.1.2.3/x",
        "https://192.168.1.10/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "https://printer.localhost/",
    ],
)
def test_webhooks_to_loopback_and_private_ranges_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        cr.check_address("webhook", url, allow_private=False)
    assert "private" in exc.value.fields[0].message
    assert cr.check_address("webhook", url, allow_private=True) == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "https://user:pw@example.com/",
    ],
)
def test_only_plain_http_and_https_urls_are_allowed(url: str) -> None:
    with pytest.raises(ValidationFailed):
        cr.check_address("webhook", url, allow_private=True)


def test_slack_member_ids_and_push_subscriptions() -> None:
    assert cr.check_address("slack", "U024BE7LH", allow_private=False) == "U024BE7LH"
    with pytest.raises(ValidationFailed):
        cr.check_address("slack", "@ada", allow_private=False)
    sub = json.dumps(
        {"endpoint": "https://push.example.com/x", "keys": {"p256dh": "k", "auth": "a"}}
    )
    assert json.loads(cr.check_address("push", sub, allow_private=False))["endpoint"].endswith("/x")
    with pytest.raises(ValidationFailed) as exc:
        cr.check_address(
            "push", json.dumps({"endpoint": "https://push.example.com/x"}), allow_private=False
        )
    assert exc.value.fields[0].field == "address.keys"


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        cr.check_address("pager", "123", allow_private=False)
    assert exc.value.fields[0].field == "kind"


def test_recommended_rules_are_push_and_email_then_sms_then_calls_until_the_timeout() -> None:
    steps = cr.recommended_steps(["email", "sms", "voice", "push"], escalation_minutes=5)
    assert [(s.delay_minutes, s.method) for s in steps] == [
        (0, "push"),
        (0, "email"),
        (1, "sms"),
        (2, "voice"),
        (3, "voice"),
        (4, "voice"),
    ]
    assert [s.method for s in cr.recommended_steps(["email"])] == ["email"]
    assert cr.recommended_steps([]) == []


def test_low_urgency_never_calls_or_texts() -> None:
    assert [s.method for s in cr.recommended_low_steps(["sms", "voice", "email"])] == ["email"]
    assert cr.recommended_low_steps(["sms", "voice"]) == []


def test_rule_steps_are_checked_with_paths() -> None:
    cr.check_rule_steps([(0, "m1"), (1440, "m2")], methods=["m1", "m2"])
    with pytest.raises(ValidationFailed) as exc:
        cr.check_rule_steps([(-1, "m1"), (5, "other")], methods=["m1"])
    assert {f.field for f in exc.value.fields} == {
        "rules[0].delay_minutes",
        "rules[1].contact_method_id",
    }


def test_masking_hides_most_of_a_number_and_the_path_of_a_url() -> None:
    assert cr.mask("sms", "+14155550123") == "+14•••••••23"
    assert cr.mask("webhook", "https://hooks.example.com/secret/path") == "hooks.example.com/…"
    assert cr.mask("email", "ada@example.com") == "ada@example.com"


def test_apprise_urls_are_checked_and_private_hosts_refused() -> None:
    assert cr.check_address("apprise", "discord://1234/abcd", allow_private=False) == (
        "discord://1234/abcd"
    )
    for bad in ("not a url", "json://example.com/x", "file:///etc/passwd"):
        with pytest.raises(ValidationFailed):
            cr.check_address("apprise", bad, allow_private=False)
    with pytest.raises(ValidationFailed):
        cr.check_address("apprise", "gotify://192.168.1.5/token", allow_private=False)
    assert cr.check_address("apprise", "gotify://192.168.1.5/token", allow_private=True)
