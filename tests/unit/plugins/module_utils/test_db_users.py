"""Secret layouts, master secret, name and password validation, password markers."""
import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_users
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_users import LayoutError

NESTED = {"application_user": {"username": "app_user", "password": "A-pw"},
          "readonly_user": {"username": "readonly_user", "password": "R-pw"},
          "devops_user": {"username": "devops_user", "password": "D-pw"}}
FLAT = {"app_username": "app_user", "app_password": "A-pw", "readonly_username": "ro", "readonly_password": "R-pw"}
COMBINED = dict(FLAT, master_username="master", master_password="M-pw", database="app")


def _summary(users):
    return [(u.name, u.profile, u.password, u.password_version, u.origin) for u in users]


def test_nested():
    users, master = db_users.parse_users_secret(NESTED, "nested", "sid", "v1")
    assert _summary(users) == [("app_user", "app", "A-pw", "v1", "secret:application_user"),
                               ("readonly_user", "readonly", "R-pw", "v1", "secret:readonly_user"),
                               ("devops_user", "devops", "D-pw", "v1", "secret:devops_user")]
    assert master is None


def test_flat():
    users, master = db_users.parse_users_secret(FLAT, "flat", "sid", "v1")
    assert _summary(users) == [("app_user", "app", "A-pw", "v1", "secret:app"), ("ro", "readonly", "R-pw", "v1", "secret:readonly")]
    assert master is None


def test_combined():
    users, master = db_users.parse_users_secret(COMBINED, "combined", "sid", "v1")
    assert [u.name for u in users] == ["app_user", "ro"]
    assert master == ("master", "M-pw")


def test_combined_nested():
    users, master = db_users.parse_users_secret(dict(NESTED, master_username="m", master_password="p"), "auto", "sid", "v")
    assert len(users) == 3 and master == ("m", "p")


@pytest.mark.parametrize("value, layout", [(NESTED, "nested"), (FLAT, "flat"), (COMBINED, "combined")])
def test_auto_detects(value, layout):
    assert db_users.detect_layout(value) == layout
    auto = db_users.parse_users_secret(value, "auto", "sid", "v")
    explicit = db_users.parse_users_secret(value, layout, "sid", "v")
    assert _summary(auto[0]) == _summary(explicit[0]) and auto[1] == explicit[1]


@pytest.mark.parametrize("value, layout, message", [
    ({"foo": "bar"}, "auto", "secret 'sid': cannot detect its layout; expected one of the keys application_user, readonly_user, devops_user, "
                             "app_username, readonly_username, devops_username"),
    ({"application_user": "x"}, "nested", "secret 'sid': 'application_user' must be an object with 'username' and 'password' keys"),
    ({"application_user": {"username": "a"}}, "nested", "secret 'sid': key 'application_user.password' is missing"),
    ({"application_user": {"username": "a", "password": ""}}, "nested", "secret 'sid': key 'application_user.password' is empty"),
    ({"application_user": {"username": "a", "password": 5}}, "nested", "secret 'sid': key 'application_user.password' is a int, not a string"),
    ({"other": 1}, "nested", "secret 'sid': nested layout needs at least one of application_user, readonly_user, devops_user"),
    ({"app_username": "a"}, "flat", "secret 'sid': key 'app_password' is missing"),
    ({"app_password": "Hidden-1"}, "flat", "secret 'sid': key 'app_username' is missing"),
    (FLAT, "combined", "secret 'sid': key 'master_username' is missing"),
    (FLAT, "weird", "unknown users_secret_layout 'weird'; use one of auto, nested, flat, combined"),
])
def test_layout_errors(value, layout, message):
    with pytest.raises(LayoutError) as info:
        db_users.parse_users_secret(value, layout, "sid", "v")
    assert str(info.value) == message
    assert "Hidden-1" not in str(info.value)


def test_master_secret():
    assert db_users.parse_master_secret({"username": "m", "password": "p"}, "s") == ("m", "p")
    assert db_users.parse_master_secret({"master_username": "m", "master_password": "p"}, "s") == ("m", "p")
    with pytest.raises(LayoutError, match="expected keys 'username' and 'password'"):
        db_users.parse_master_secret({"user": "m"}, "s")
    with pytest.raises(LayoutError, match="^secret 's': key 'password' is missing$"):
        db_users.parse_master_secret({"username": "m"}, "s")


def test_secret_key_value():
    assert db_users.secret_key_value(NESTED, "readonly_user.password", "s") == "R-pw"
    assert db_users.secret_key_value({"a.b": 1, "k": "v"}, "k", "s") == "v"
    with pytest.raises(LayoutError, match="^secret 's' has no key 'nope.password'$"):
        db_users.secret_key_value(NESTED, "nope.password", "s")


@pytest.mark.parametrize("name", ["app_user", "o'brien", 'semi;colon"; DROP ROLE x; --', "back\\slash", "ünïcødé_用户", "Mixed Case",
                                  "x" * 63, "é" * 31])
def test_valid_names(name):
    assert db_users.validate_role_name(name) is None


@pytest.mark.parametrize("name, reason", [
    ("", "user name must be a non-empty string"),
    (None, "user name must be a non-empty string"),
    ("x" * 64, "is longer than 63 bytes"),
    ("é" * 32, "is longer than 63 bytes"),
    ("tab\there", "contains a control character"),
    ("nul\x00", "contains a control character"),
    (" padded", "has leading or trailing whitespace"),
    ("public", "is reserved by PostgreSQL"),
    ("NONE", "is reserved by PostgreSQL"),
    ("current_user", "is reserved by PostgreSQL"),
    ("pg_monitor", "starts with 'pg_'"),
    ("rdsadmin", "starts with 'rds'"),
    ("RDS_superuser", "starts with 'rds'"),
])
def test_invalid_names(name, reason):
    assert reason in db_users.validate_role_name(name)


def test_password_validation():
    assert db_users.validate_password("ok ' \\ ;", "p") is None
    assert db_users.validate_password("", "password of 'a'") == "password of 'a' is empty"
    assert "NUL" in db_users.validate_password("a\x00b", "p")
    assert "must be a string" in db_users.validate_password(12, "p")


def test_password_marker_round_trip():
    users, master = db_users.parse_users_secret(FLAT, "flat", "sid", "3f1c-ver")
    assert master is None
    marker = users[0].password_marker()
    assert marker.startswith("dbops.aurora_restore secret-version=3f1c-ver source=")
    assert db_users.parse_password_marker(marker) == ("3f1c-ver", users[0].password_source)
    assert "A-pw" not in marker
    assert db_users.parse_password_marker("someone else's comment") == (None, None)
    assert db_users.parse_password_marker(None) == (None, None)
    # the source changes with the secret and the key, so switching secrets resets the password
    assert db_users.source_digest("a", "k") != db_users.source_digest("b", "k") != db_users.source_digest("a", "j")


def test_user_without_password_has_no_marker():
    assert db_users.UserSpec("iam_user").password_marker() is None


def test_repr_hides_password():
    users, master = db_users.parse_users_secret(FLAT, "flat", "sid", "v")
    assert master is None
    assert "A-pw" not in repr(users[0])


def test_duplicates():
    users, master = db_users.parse_users_secret(FLAT, "flat", "sid", "v")
    assert master is None
    with pytest.raises(LayoutError, match="^user 'app_user' is defined twice \\(secret:app and users\\)$"):
        db_users.check_unique(users + [db_users.UserSpec("app_user")])
