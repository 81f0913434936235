"""Nothing the emulator starts outlives it; the CLI and env file work from a plain shell."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from localaws import Emulator
from localaws_helpers import create_cluster, query, scratch_dir  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return bool(stat) and stat.split(") ", 1)[1][0] != "Z"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_stop_leaves_no_process_or_port(monkeypatch, scratch_dir):
    emu = Emulator(state_dir=scratch_dir).start()
    for key, value in emu.env.items():
        monkeypatch.setenv(key, value)
    from localaws_helpers import client

    rds = client("rds")
    clusters = [create_cluster(rds, f"c{i}") for i in range(2)]
    state = emu.state()
    pids = [c["postgres_pid"] for c in state["clusters"]]
    assert all(pids) and all(_alive(pid) for pid in pids)
    ports = [c["Port"] for c in clusters]
    assert all(_port_open(port) for port in ports)
    server_pid = emu.pid
    emu.stop()
    assert not _alive(server_pid)
    assert not any(_alive(pid) for pid in pids)
    assert not any(_port_open(port) for port in ports)
    assert not _port_open(int(emu.endpoint_url.rsplit(":", 1)[1]))


def test_leftover_postgres_is_stopped_by_pid_after_a_server_crash(monkeypatch, scratch_dir):
    emu = Emulator(state_dir=scratch_dir).start()
    for key, value in emu.env.items():
        monkeypatch.setenv(key, value)
    from localaws_helpers import client

    create_cluster(client("rds"), "orphan")
    pg_pid = emu.state()["clusters"][0]["postgres_pid"]
    os.kill(emu.pid, 9)  # the server dies without cleaning up; its postgres survives (own session)
    emu._wait_exit(10)
    assert _alive(pg_pid)
    emu.stop()  # what `localaws down` does: the recorded PIDs are stopped
    assert not _alive(pg_pid)


def test_cli_up_plain_boto3_script_down(scratch_dir):
    state = scratch_dir
    env = dict(os.environ, LOCALAWS_STATE_DIR=state,
               PYTHONPATH=os.pathsep.join([str(REPO / "tools" / "localaws"), os.environ.get("PYTHONPATH", "")]))
    for key in [k for k in env if k.startswith("AWS_")]:
        del env[key]
    up = subprocess.run([sys.executable, "-m", "localaws", "up"], env=env, capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    env_file = up.stdout.strip().splitlines()[-1]
    assert env_file == f"{state}/localaws.env"
    try:
        script = Path(state, "plain.py")
        script.write_text(
            "import boto3\n"
            "rds = boto3.client('rds')\n"
            "rds.create_db_cluster(DBClusterIdentifier='x', Engine='aurora-postgresql', MasterUsername='u',\n"
            "                      MasterUserPassword='password1')\n"
            "account = boto3.client('sts').get_caller_identity()['Account']\n"
            "print(account, rds.describe_db_clusters()['DBClusters'][0]['DBClusterIdentifier'])\n")
        # Only what the env file exports: no AWS_* from this process, no PYTHONPATH to localaws.
        plain = subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", "HOME=/nonexistent", "bash", "-c",
                                f"source {env_file} && {sys.executable} {script}"],
                               capture_output=True, text=True, timeout=60)
        assert plain.returncode == 0, plain.stderr
        assert plain.stdout.split() == ["123456789012", "x"]
        status = subprocess.run([sys.executable, "-m", "localaws", "status"], env=env, capture_output=True,
                                text=True, timeout=30)
        assert status.returncode == 0 and "running at" in status.stdout and " x: " in status.stdout
        server_pid = json.loads(Path(state, "server.json").read_text())["pid"]
    finally:
        down = subprocess.run([sys.executable, "-m", "localaws", "down"], env=env, capture_output=True, text=True,
                              timeout=60)
    assert down.returncode == 0, down.stderr
    assert not _alive(server_pid)
    counts = json.loads(Path(state, "request-counts.json").read_text())
    assert counts["services"]["rds"]["CreateDBCluster"] == 1
    status = subprocess.run([sys.executable, "-m", "localaws", "status"], env=env, capture_output=True, text=True)
    assert status.returncode == 1


def test_twenty_clusters_at_once(aws_env):
    from localaws_helpers import client, wait_instance, wait_cluster

    rds = client("rds")
    count = 21
    for i in range(count):
        rds.create_db_cluster(DBClusterIdentifier=f"many-{i}", Engine="aurora-postgresql", MasterUsername="postgres",
                              MasterUserPassword=f"password-{i}")
        rds.create_db_instance(DBInstanceIdentifier=f"many-{i}-1", DBClusterIdentifier=f"many-{i}",
                               Engine="aurora-postgresql", DBInstanceClass="db.t4g.medium")
    for i in range(count):
        wait_instance(rds, f"many-{i}-1", timeout=120)
    for i in range(count):
        assert query(wait_cluster(rds, f"many-{i}"), f"password-{i}", "select current_user") == [("postgres",)]
    assert len(aws_env.state()["postgres_pids"]) == count


def test_postgres_server_fixture_and_copy(postgres_server, scratch_dir):
    with psycopg2.connect(postgres_server.dsn()) as conn, conn.cursor() as cur:
        cur.execute("create table t(v int); insert into t values (42)")
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(postgres_server.dsn(password="wrong"))
    copy = postgres_server.copy_to(Path(scratch_dir) / "pg")  # online copy of a running server
    try:
        with copy:
            assert copy.port != postgres_server.port
            with psycopg2.connect(copy.dsn()) as conn, conn.cursor() as cur:
                cur.execute("select v from t")
                assert cur.fetchall() == [(42,)]
            pid = copy.pid
        assert not _alive(pid) and not _port_open(copy.port)
    finally:
        copy.destroy()


def test_deleting_snapshots_and_clusters_removes_their_data(aws_env):
    from localaws_helpers import client, wait_for, wait_gone, wait_snapshot

    data = Path(aws_env.state_dir) / "data"

    def entries(kind):
        return sorted(p.name for p in (data / kind).iterdir()) if (data / kind).exists() else []

    rds = client("rds")
    found = create_cluster(rds, "d")
    rds.create_db_cluster_snapshot(DBClusterIdentifier="d", DBClusterSnapshotIdentifier="d-snap")
    wait_snapshot(rds, "d-snap")
    assert len(entries("clusters")) == 1 and len(entries("snapshots")) == 1
    rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier="d-snap")
    wait_for(lambda: entries("snapshots") == [], timeout=20, what="snapshot data removed")
    rds.delete_db_instance(DBInstanceIdentifier="d-1")
    wait_gone(rds.describe_db_instances, "DBInstanceNotFound", DBInstanceIdentifier="d-1")
    assert not _port_open(found["Port"])
    rds.delete_db_cluster(DBClusterIdentifier="d", SkipFinalSnapshot=True)
    wait_gone(rds.describe_db_clusters, "DBClusterNotFoundFault", DBClusterIdentifier="d")
    wait_for(lambda: entries("clusters") == [], timeout=20, what="cluster data removed")
    assert aws_env.state()["postgres_pids"] == {}
