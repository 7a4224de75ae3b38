from tocsin.kernel.errors import FieldError, NotFound, ValidationFailed
from tocsin.kernel.ids import hash_secret, new_id, new_secret


def test_ids_are_uuid7_and_time_ordered() -> None:
    ids = [new_id() for _ in range(200)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 200


def test_secrets_are_long_and_hash_is_stable() -> None:
    s = new_secret()
    assert len(s) >= 43
    assert hash_secret(s) == hash_secret(s)
    assert hash_secret(s) != s
    assert len(hash_secret(s)) == 64


def test_errors_carry_stable_codes_and_fields() -> None:
    err = ValidationFailed.one("email", "bad")
    assert err.code == "invalid"
    assert list(err.fields) == [FieldError("email", "bad")]
    assert NotFound("user", 42).code == "user.not_found"
    assert str(NotFound("team", "x")) == "No team x."
