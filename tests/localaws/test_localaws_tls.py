"""Clusters serve TLS as Aurora does, with a certificate of the emulator's own CA (tools/localaws/localaws/tls.py,
LOCALAWS_RDS_CA): sslmode=verify-full works with that CA and fails with another; plain connections still work
(the default parameter group does not set rds.force_ssl)."""
import os

import psycopg2
import pytest

from localaws_helpers import client, create_cluster


def _connect(found, **tls):
    return psycopg2.connect(host=found["Endpoint"], port=found["Port"], user="postgres", password="master-pw-1",
                            dbname="postgres", connect_timeout=5, **tls)


def test_a_cluster_serves_tls_that_the_emulators_ca_verifies(aws_env):
    ca_file = os.environ["LOCALAWS_RDS_CA"]
    assert open(ca_file).read().startswith("-----BEGIN CERTIFICATE-----")
    found = create_cluster(client("rds", "us-west-2"), "tls")
    with _connect(found, sslmode="verify-full", sslrootcert=ca_file) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        in_use, version = cursor.fetchone()
    assert in_use and version.startswith("TLS")
    with _connect(found, sslmode="require") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cursor.fetchone() == (True,)
    with _connect(found, sslmode="disable") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cursor.fetchone() == (False,)


def test_verify_full_with_another_ca_is_refused(aws_env, tmp_path):
    from localaws import tls

    found = create_cluster(client("rds", "us-west-2"), "tls-other")
    other_ca = tls.ensure(tmp_path / "another-ca").ca_file
    with pytest.raises(psycopg2.OperationalError, match="certificate verify failed"):
        _connect(found, sslmode="verify-full", sslrootcert=str(other_ca))


def test_a_parameter_group_with_rds_force_ssl_refuses_plain_connections(aws_env):
    rds = client("rds", "us-west-2")
    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName="tls-only", DBParameterGroupFamily="aurora-postgresql15",
                                          Description="TLS only")
    rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName="tls-only", Parameters=[
        {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}])
    found = create_cluster(rds, "tls-only", DBClusterParameterGroupName="tls-only")
    with pytest.raises(psycopg2.OperationalError, match="no encryption"):
        _connect(found, sslmode="disable")
    with _connect(found, sslmode="verify-full", sslrootcert=os.environ["LOCALAWS_RDS_CA"]) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cursor.fetchone() == (True,)
