"""Privilege model and diff, and statement composition (rendered without a server), redaction."""
import pytest
from psycopg2 import sql

from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_privileges as dp
from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_sql


def render(composable):
    """Render psycopg2.sql objects like PostgreSQL would see them, without a connection."""
    if isinstance(composable, sql.Composed):
        return "".join(render(part) for part in composable.seq)
    if isinstance(composable, sql.Identifier):
        return ".".join('"' + s.replace('"', '""') + '"' for s in composable.strings)
    if isinstance(composable, sql.Literal):
        value = composable.wrapped
        return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"
    if isinstance(composable, sql.SQL):
        return composable.string
    raise TypeError(composable)


def texts(statements):
    return [render(s.query) for s in statements]


def catalog(**kw):
    cat = dp.Catalog("app")
    cat.roles = {"master": {}, "app_user": {}, "pg_monitor": {}, "pg_signal_backend": {}, "rds_iam": {}}
    cat.schemas = {"public": "master"}
    cat.relations = {("public", "table"): {"t1": "master", "t2": "master"}, ("public", "sequence"): {"t1_id_seq": "master"}}
    for key, value in kw.items():
        setattr(cat, key, value)
    return cat


def converged(user, profile):
    """A catalog where `user` already has exactly what `profile` gives."""
    spec = dp.PROFILE_PRIVILEGES[profile]
    cat = catalog()
    cat.db_acl = {user: set(spec["database"])}
    cat.schema_acl = {("public", user): set(spec["schema"])}
    cat.relation_acl = {("public", "table", "t1", user): set(spec["table"]), ("public", "table", "t2", user): set(spec["table"]),
                        ("public", "sequence", "t1_id_seq", user): set(spec["sequence"])}
    cat.default_acl = {("master", "public", "table", user): set(spec["table"]), ("master", "public", "sequence", user): set(spec["sequence"])}
    cat.members = {user: set(r for r in spec["optional_roles"])}
    return cat


def diff(user, profile, cat, grants=None, member_of=None, schemas=("public",), owners=("master",)):
    desired = dp.desired_privileges(profile, grants, list(schemas), member_of, f"user {user!r}")
    return dp.diff_privileges(user, desired, cat, list(schemas), list(owners))


def test_new_app_user_gets_everything_in_few_statements():
    assert texts(diff("app_user", "app", catalog())) == [
        'GRANT CONNECT, TEMPORARY ON DATABASE "app" TO "app_user"',
        'GRANT USAGE ON SCHEMA "public" TO "app_user"',
        'GRANT DELETE, INSERT, SELECT, UPDATE ON ALL TABLES IN SCHEMA "public" TO "app_user"',
        'GRANT SELECT, UPDATE, USAGE ON ALL SEQUENCES IN SCHEMA "public" TO "app_user"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "master" IN SCHEMA "public" GRANT DELETE, INSERT, SELECT, UPDATE ON TABLES TO "app_user"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "master" IN SCHEMA "public" GRANT SELECT, UPDATE, USAGE ON SEQUENCES TO "app_user"',
    ]


@pytest.mark.parametrize("profile", ["app", "readonly", "devops"])
def test_converged_is_empty(profile):
    assert diff("u", profile, converged("u", profile)) == []


def test_readonly_to_app_and_back():
    cat = converged("u", "readonly")
    grants = texts(diff("u", "app", cat))
    assert 'GRANT DELETE, INSERT, UPDATE ON ALL TABLES IN SCHEMA "public" TO "u"' in grants
    cat = converged("u", "app")
    revokes = texts(diff("u", "readonly", cat))
    assert revokes == [
        'REVOKE TEMPORARY ON DATABASE "app" FROM "u"',
        'REVOKE DELETE, INSERT, UPDATE ON ALL TABLES IN SCHEMA "public" FROM "u"',
        'REVOKE UPDATE, USAGE ON ALL SEQUENCES IN SCHEMA "public" FROM "u"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "master" IN SCHEMA "public" REVOKE DELETE, INSERT, UPDATE ON TABLES FROM "u"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "master" IN SCHEMA "public" REVOKE UPDATE, USAGE ON SEQUENCES FROM "u"',
    ]


def test_devops_memberships_only_where_roles_exist():
    cat = catalog()
    del cat.roles["pg_signal_backend"]
    out = texts(diff("d", "devops", cat))
    assert 'GRANT "pg_monitor" TO "d"' in out
    assert not any("pg_signal_backend" in s for s in out)
    assert 'GRANT CREATE, USAGE ON SCHEMA "public" TO "d"' in out


def test_partial_table_grants_are_per_object():
    cat = converged("u", "readonly")
    cat.relation_acl[("public", "table", "t2", "u")] = set()
    assert texts(diff("u", "readonly", cat)) == ['GRANT SELECT ON TABLE "public"."t2" TO "u"']
    cat.relation_acl[("public", "table", "t1", "u")] = {"SELECT", "DELETE"}
    cat.relation_acl[("public", "table", "t2", "u")] = {"SELECT"}
    assert texts(diff("u", "readonly", cat)) == ['REVOKE DELETE ON TABLE "public"."t1" FROM "u"']


def test_owned_and_unmanageable_objects_are_left_alone():
    cat = converged("u", "readonly")
    cat.relations[("public", "table")]["mine"] = "u"
    cat.relations[("public", "table")]["theirs"] = "other"
    cat.unmanageable[("public", "table", "theirs")] = "other"
    assert diff("u", "readonly", cat) == []
    cat.relation_acl[("public", "table", "t1", "u")] = set()
    # an owned object in the schema forbids ON ALL TABLES (it would touch the owner's own privileges)
    assert texts(diff("u", "readonly", cat)) == ['GRANT SELECT ON TABLE "public"."t1" TO "u"']


def test_custom_grants_objects_and_defaults():
    grants = [{"type": "table", "objects": ["t1"], "privileges": ["select", "insert"]},
              {"type": "database", "privileges": ["temp"]}]
    out = texts(diff("c", "custom", catalog(), grants=grants))
    assert out == ['GRANT TEMPORARY ON DATABASE "app" TO "c"', 'GRANT USAGE ON SCHEMA "public" TO "c"',
                   'GRANT INSERT, SELECT ON TABLE "public"."t1" TO "c"']


def test_custom_grant_all_and_other_schema():
    cat = catalog()
    cat.schemas["billing"] = "master"
    cat.relations[("billing", "table")] = {"invoices": "master"}
    out = texts(diff("c", "custom", cat, grants=[{"type": "table", "schemas": ["billing"], "privileges": ["ALL"]}]))
    assert 'GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON ALL TABLES IN SCHEMA "billing" TO "c"' in out
    assert any(s.startswith('ALTER DEFAULT PRIVILEGES FOR ROLE "master" IN SCHEMA "billing" GRANT') for s in out)


@pytest.mark.parametrize("grant, message", [
    ({"type": "schema", "privileges": ["SELECT"]}, "user 'c': privilege 'SELECT' is not valid on a schema; use CREATE, USAGE or ALL"),
    ({"type": "table", "privileges": []}, "user 'c': no privileges given"),
    ({"type": "function", "privileges": ["EXECUTE"]}, "user 'c': grant type 'function' is not one of database, schema, table, sequence"),
    ({"type": "table", "objects": ["nope"], "privileges": ["SELECT"]}, "user 'c': table public.nope does not exist in database 'app'"),
])
def test_grant_errors(grant, message):
    with pytest.raises(dp.PrivilegeError) as info:
        diff("c", "custom", catalog(), grants=[grant])
    assert str(info.value) == message


def test_missing_schema_and_role():
    with pytest.raises(dp.PrivilegeError, match="^schema 'nope' does not exist in database 'app'$"):
        diff("u", "app", catalog(), schemas=["nope"])
    with pytest.raises(dp.PrivilegeError, match="^user 'u': member_of role\\(s\\) ghost do not exist$"):
        diff("u", "app", catalog(), member_of=["ghost"])


def test_memberships_exact_but_rds_roles_kept():
    cat = converged("u", "app")
    cat.members["u"] = {"rds_iam", "legacy_group"}
    cat.roles["legacy_group"] = {}
    assert texts(diff("u", "app", cat)) == ['REVOKE "legacy_group" FROM "u"']
    assert texts(diff("u", "app", cat, member_of=["legacy_group"])) == []


def test_hostile_identifiers_are_quoted():
    name = 'x"; DROP ROLE master; --'
    assert render(db_sql.grant_membership(name, "pg_monitor").query) == 'GRANT "pg_monitor" TO "x""; DROP ROLE master; --"'
    assert render(db_sql.drop_role(name).query) == 'DROP ROLE "x""; DROP ROLE master; --"'


def test_password_statements_redacted():
    verifier = "SCRAM-SHA-256$4096:abc$def:ghi"
    create = db_sql.create_role("o'brien", verifier, 5, "2030-01-01")
    assert render(create.query) == ("CREATE ROLE \"o'brien\" WITH LOGIN INHERIT CONNECTION LIMIT 5 VALID UNTIL '2030-01-01' "
                                    f"PASSWORD '{verifier}'")
    assert render(create.display) == "CREATE ROLE \"o'brien\" WITH LOGIN INHERIT CONNECTION LIMIT 5 VALID UNTIL '2030-01-01' PASSWORD '********'"
    alter = db_sql.alter_password("u", verifier)
    assert verifier in render(alter.query) and verifier not in render(alter.display)
    assert render(db_sql.create_role("iam", None).display) == 'CREATE ROLE "iam" WITH LOGIN INHERIT CONNECTION LIMIT -1'


def test_redactor():
    redact = db_sql.Redactor()
    redact.add("it's\\secret")
    assert redact("pw=it's\\secret") == "pw=********"
    assert redact("pw='it''s\\secret'") == "pw='********'"
    assert "secret" not in redact(repr("pw it's\\secret"))
    assert redact(None) is None
    redact.add("")
    assert redact("nothing") == "nothing"
