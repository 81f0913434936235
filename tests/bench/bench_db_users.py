"""Benchmark: aurora_db_users with 200 users, first run and idempotent rerun, through ansible-playbook.

Real PostgreSQL 15 (scram-sha-256, non-superuser master like Aurora) and a local Secrets Manager (moto_server).
Prints figures only; no assertions on time. Aims: first run < 10 s, rerun (changed=false) < 2 s, on 2 cores.

    PYTHONPATH=.collections:tools/localaws:tests python tests/bench/bench_db_users.py [--users 200] [--tables 20]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import boto3
import psycopg2

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tools" / "localaws"))

from helpers.ansible_run import run_playbook  # noqa: E402
from localaws.postgres import PostgresServer  # noqa: E402

MASTER_PASSWORD = "bench-Master-pw"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def task_seconds(run, name):
    for play in run.report.get("plays", []):
        for task in play.get("tasks", []):
            if task["task"]["name"] == name:
                duration = task["task"]["duration"]
                start = datetime.fromisoformat(duration["start"].replace("Z", "+00:00"))
                end = datetime.fromisoformat(duration["end"].replace("Z", "+00:00"))
                return (end - start).total_seconds()
    return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--tables", type=int, default=20)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="bench-dbusers-", dir="/tmp"))
    os.chmod(base, 0o755)
    port = free_port()
    moto = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-p", str(port), "-H", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = PostgresServer(base / "pg", password="bench-super").start()
    try:
        env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
               "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        for _attempt in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        sm = boto3.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
        sm.create_secret(Name="bench/master", SecretString=json.dumps({"username": "master", "password": MASTER_PASSWORD}))
        sm.create_secret(Name="bench/users", SecretString=json.dumps({f"user{i:03d}": f"pw-{i:03d}-'\\;x" for i in range(args.users)}))

        admin = psycopg2.connect(server.dsn())
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("CREATE ROLE master LOGIN CREATEROLE CREATEDB PASSWORD %s", (MASTER_PASSWORD,))
            cur.execute("CREATE DATABASE app OWNER master")
        admin.close()
        conn = psycopg2.connect(host=server.host, port=server.port, dbname="app", user="master", password=MASTER_PASSWORD)
        with conn.cursor() as cur:
            for i in range(args.tables):
                cur.execute(f"CREATE TABLE public.t{i:03d} (id serial PRIMARY KEY, v text)")
        conn.commit()
        conn.close()

        profiles = ("app", "readonly", "devops")
        users = [{"name": f"user{i:03d}", "profile": profiles[i % 3], "password_secret_id": "bench/users", "password_secret_key": f"user{i:03d}"}
                 for i in range(args.users)]
        task = {"login_host": server.host, "login_port": server.port, "database": "app", "master_secret_id": "bench/master",
                "users": users, "connect_retries": 0}
        play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                 "tasks": [{"name": "db users", "dbops.aurora_restore.aurora_db_users": task}]}]
        text = json.dumps(play)
        print(f"aurora_db_users benchmark: {args.users} users, {args.tables} tables, PostgreSQL {server.port}, {os.cpu_count()} cores")
        for label in ("first run", "rerun", "rerun again"):
            started = time.monotonic()
            run = run_playbook(text, base, extra_env=env)
            wall = time.monotonic() - started
            result = run.result("db users")
            if run.rc != 0:
                print(f"{label}: FAILED: {result.get('msg')}")
                return 1
            print(f"{label:12s} changed={str(result['changed']).lower():5s} statements={len(result['statements']):5d} "
                  f"task={task_seconds(run, 'db users'):6.2f}s  ansible-playbook wall={wall:6.2f}s")
    finally:
        server.stop()
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
