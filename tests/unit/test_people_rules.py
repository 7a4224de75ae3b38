from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import PermissionDenied, ValidationFailed
from tocsin.people import rules

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def actor(role: str, scope: str = "write") -> Actor:
    return Actor(user_id=None, name="x", role=role, via="token", scope=scope)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        ("admin", "people.write", True),
        ("manager", "people.write", False),
        ("manager", "teams.write", True),
        ("responder", "teams.write", False),
        ("observer", "people.read", True),
        ("stakeholder", "people.read", False),
        ("stakeholder", "teams.read", True),
        ("nobody", "teams.read", False),
    ],
)
def test_role_permissions(role: str, permission: str, allowed: bool) -> None:
    assert rules.allows(role, permission) is allowed
    if allowed:
        rules.authorize(actor(role), permission)
    else:
        with pytest.raises(PermissionDenied) as exc:
            rules.authorize(actor(role), permission)
        assert exc.value.code == "auth.role"


def test_read_scope_cannot_write_even_as_admin() -> None:
    rules.authorize(actor("admin", "read"), "people.read")
    with pytest.raises(PermissionDenied) as exc:
        rules.authorize(actor("admin", "read"), "people.write")
    assert exc.value.code == "auth.scope"


def test_profile_editing() -> None:
    me = Actor(user_id="u1", name="me", role="responder", via="session")  # type: ignore[arg-type]
    assert rules.may_edit_profile(me, "u1")
    assert not rules.may_edit_profile(me, "u2")
    assert rules.may_edit_profile(actor("admin"), "u2")


def test_time_zone_and_role_validation_name_the_field() -> None:
    assert rules.check_time_zone("Australia/Lord_Howe") == "Australia/Lord_Howe"
    with pytest.raises(ValidationFailed) as exc:
        rules.check_time_zone("Mars/Olympus")
    assert exc.value.fields[0].field == "time_zone"
    with pytest.raises(ValidationFailed) as exc:
        rules.check_role("boss")
    assert exc.value.fields[0].field == "role"


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com"])
def test_bad_emails_are_refused(bad: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.normalise_email(bad)
    assert exc.value.fields[0].field == "email"


def test_email_is_normalised() -> None:
    assert rules.normalise_email("  Ada@Example.COM ") == "ada@example.com"


def test_password_length_rules() -> None:
    assert rules.check_password("x" * 10)
    for bad in ("short", "x" * 1025):
        with pytest.raises(ValidationFailed):
            rules.check_password(bad)


def test_login_not_blocked_below_limit() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4)]
    assert rules.login_retry_after(failures, now=NOW, max_failures=5, window=WINDOW) is None


def test_login_blocked_until_oldest_counted_failure_leaves_window() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4, 10)]
    retry = rules.login_retry_after(failures, now=NOW, max_failures=5, window=WINDOW)
    assert retry == 5 * 60  # the failure 10 minutes ago leaves the window in 5 minutes


def test_old_failures_do_not_count() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (16, 17, 18, 19, 20)]
    assert rules.login_retry_after(failures, now=NOW, max_failures=5, window=WINDOW) is None


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=3600), max_size=30),
    max_failures=st.integers(min_value=1, max_value=10),
)
def test_retry_after_never_exceeds_window(offsets: list[int], max_failures: int) -> None:
    failures = [NOW - timedelta(seconds=s) for s in offsets]
    retry = rules.login_retry_after(failures, now=NOW, max_failures=max_failures, window=WINDOW)
    recent = [s for s in offsets if s < WINDOW.total_seconds()]
    assert (retry is None) == (len(recent) < max_failures)
    if retry is not None:
        assert 1 <= retry <= WINDOW.total_seconds()
        # once retry seconds pass, fewer than max failures remain in the window
        later = NOW + timedelta(seconds=retry)
        assert (
            rules.login_retry_after(failures, now=later, max_failures=max_failures, window=WINDOW)
            is None
        )


def test_session_expiry_is_inclusive() -> None:
    assert rules.session_expired(NOW, NOW)
    assert not rules.session_expired(NOW + timedelta(seconds=1), NOW)
