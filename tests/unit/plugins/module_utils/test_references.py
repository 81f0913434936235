import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils.references import aurora_postgresql_family


@pytest.mark.parametrize("version,family", [
    ("15.4", "aurora-postgresql15"),
    ("16.1.limitless", "aurora-postgresql16"),
    ("11", "aurora-postgresql11"),
    ("9.6.22", "aurora-postgresql9.6"),
    ("", None),
    (None, None),
    ("latest", None),
])
def test_family_of_an_engine_version(version, family):
    assert aurora_postgresql_family(version) == family


def test_a_master_secret_must_name_the_sources_master_user():
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.references import check_secret_contents

    secrets = {"named-admin": {"username": "admin", "password": "Valid-Pw-123"},
               "named-postgres": {"username": "postgres", "password": "Valid-Pw-123"},
               "combined": {"master_username": "admin", "master_password": "Valid-Pw-123"},
               "no-user": {"password": "Valid-Pw-123"}}

    def read(secret_id):
        return secrets[secret_id], "v1"

    assert check_secret_contents(read, master_secret_id="named-postgres", master_username="postgres") == []
    assert check_secret_contents(read, master_secret_id="no-user", master_username="postgres") == []
    assert check_secret_contents(read, master_secret_id="named-admin") == []  # the source's user unknown: not compared
    for secret_id in ("named-admin", "combined"):
        [problem] = check_secret_contents(read, master_secret_id=secret_id, master_username="postgres")
        assert problem == ("master_secret_id %r names user 'admin' but the source's master user is 'postgres', which a "
                           "restore keeps (only its password is reset): set the secret's username to 'postgres'" % secret_id)
        assert "Valid-Pw-123" not in problem
