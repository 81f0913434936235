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
