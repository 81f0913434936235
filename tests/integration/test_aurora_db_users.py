"""aurora_db_users through real ansible-playbook, against a real PostgreSQL (scram-sha-256) and a Secrets Manager emulator.

The cluster is made Aurora-like: the module logs in as a non-superuser master ("master", CREATEROLE + CREATEDB,
owner of database "app"), never as the server's superuser.
"""
import functools
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import psycopg2
import pytest

from helpers.ansible_run import run_playbook

MASTER = "master"
MASTER_PASSWORD = "M4ster'pw;\\\"x-ü"


# ----------------------------------------------------------------- fixtures (localaws.pytest_plugin: aws_env, postgres_server)

def _wait_for_ssl(cluster, timeout=30.0):
    """pg_reload_conf() only signals the server: wait until a new connection sees ssl on."""
    deadline = time.monotonic() + timeout
    while cluster.admin("SHOW ssl", dbname="postgres") != [("on",)]:
        assert time.monotonic() < deadline, "ssl still off %.0f s after the reload" % timeout
        time.sleep(0.1)


@pytest.fixture
def aws(aws_env):
    """The emulator's AWS_* variables (already exported by aws_env; ansible-playbook inherits them)."""
    return {k: v for k, v in os.environ.items() if k.startswith("AWS_")}


@pytest.fixture
def pg(postgres_server):
    return postgres_server


class Cluster:
    """An Aurora-like database: master (not superuser) owns database app with tables; secrets in the emulator."""

    def __init__(self, server, env, prefix):
        self.server = server
        self.env = env
        self.prefix = prefix
        self.sm = boto3.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                               aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        self.secret_values = [MASTER_PASSWORD]
        su = self.superuser()
        with su.cursor() as cur:
            cur.execute("CREATE ROLE master LOGIN CREATEROLE CREATEDB PASSWORD %s", (MASTER_PASSWORD,))
            cur.execute("CREATE DATABASE app OWNER master")
        su.close()
        conn = self.connect(MASTER, MASTER_PASSWORD)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE public.customers (id serial PRIMARY KEY, email text NOT NULL, visits int NOT NULL DEFAULT 0)")
            cur.execute("INSERT INTO public.customers (email) VALUES ('alice@corp.example'), ('bob@corp.example')")
            cur.execute("CREATE TABLE public.orders (id serial PRIMARY KEY, customer_id int, total numeric)")
        conn.commit()
        conn.close()
        self.put("master", {"username": MASTER, "password": MASTER_PASSWORD})

    def name(self, short):
        return f"{self.prefix}/{short}"

    def put(self, short, value):
        """Create or update a secret; return its id."""
        secret_id = self.name(short)
        text = value if isinstance(value, str) else json.dumps(value)
        self._remember(value)
        try:
            self.sm.create_secret(Name=secret_id, SecretString=text)
        except self.sm.exceptions.ResourceExistsException:
            self.sm.put_secret_value(SecretId=secret_id, SecretString=text)
        return secret_id

    def _remember(self, value):
        if isinstance(value, dict):
            for key, item in value.items():
                if "password" in key:
                    self.secret_values.append(item) if isinstance(item, str) else self._remember(item)
                else:
                    self._remember(item)

    def superuser(self, dbname="app"):
        conn = psycopg2.connect(self.server.dsn(dbname="postgres" if dbname == "postgres" else "postgres"))
        conn.autocommit = True
        return conn

    def connect(self, user, password, dbname="app"):
        return psycopg2.connect(host=self.server.host, port=self.server.port, dbname=dbname, user=user, password=password,
                                connect_timeout=5)

    def admin(self, query, params=None, dbname="app"):
        conn = psycopg2.connect(self.server.dsn(dbname=dbname))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(query, params)
            rows = cur.fetchall() if cur.description else None
        conn.close()
        return rows

    def run(self, tmp_path, args=None, check=False, diff=False, tasks=None):
        """Run one aurora_db_users task (or several raw tasks) through ansible-playbook."""
        if tasks is None:
            base = {"login_host": self.server.host, "login_port": self.server.port, "database": "app",
                    "master_secret_id": self.name("master"), "connect_retries": 0}
            base.update(args or {})
            tasks = [{"name": "db users", "dbops.aurora_restore.aurora_db_users": base}]
        play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "tasks": tasks}]
        run = run_playbook(json.dumps(play, indent=1), tmp_path, check=check, diff=diff, extra_env=self.env)
        for secret in self.secret_values:
            assert secret not in run.output, "a password appeared in the ansible-playbook output"
        assert "SCRAM-SHA-256$" not in run.output and "md5" not in run.output.lower().replace("md5sum", ""), "a password verifier leaked"
        return run


@pytest.fixture
def cluster(pg, aws, request):
    return Cluster(pg, aws, f"it/{request.node.name}/{time.time_ns()}")


def can(conn_factory, query):
    """True when `query` succeeds for a fresh connection from conn_factory()."""
    conn = conn_factory()
    try:
        with conn.cursor() as cur:
            cur.execute(query)
        conn.commit()
        return True
    except psycopg2.Error:
        return False
    finally:
        conn.close()


def login_fails(cluster, user, password):
    try:
        cluster.connect(user, password).close()
    except psycopg2.OperationalError as e:
        return "password authentication failed" in str(e)
    return False


# ----------------------------------------------------------------- tests

def test_nested_layout_profiles_check_mode_and_idempotence(cluster, tmp_path):
    users = {"application_user": {"username": "app_user", "password": "app-Pw-1"},
             "readonly_user": {"username": "readonly_user", "password": "ro-Pw-1"},
             "devops_user": {"username": "devops_user", "password": "dev-Pw-1"}}
    args = {"users_secret_id": cluster.put("users", users), "users_secret_layout": "nested"}

    # check mode: reports the changes, changes nothing
    run = cluster.run(tmp_path, args, check=True)
    assert run.rc == 0, run.output
    res = run.result("db users")
    assert res["changed"] is True
    assert {u["name"] for u in res["users"] if u["created"]} == {"app_user", "readonly_user", "devops_user"}
    assert any("PASSWORD '********'" in s for s in res["statements"])
    assert cluster.admin("SELECT rolname FROM pg_roles WHERE rolname IN ('app_user', 'readonly_user', 'devops_user')") == []

    run = cluster.run(tmp_path, args, diff=True)
    assert run.rc == 0, run.output
    res = run.result("db users")
    assert res["changed"] is True
    by_name = {u["name"]: u for u in res["users"]}
    assert by_name["app_user"]["profile"] == "app" and by_name["app_user"]["password_changed"] is True
    assert res["diff"]["before"]["app_user"] == {"exists": False}
    assert res["diff"]["after"]["devops_user"]["member_of"] == ["pg_monitor", "pg_signal_backend"]
    assert "MEMBER OF pg_monitor" in by_name["devops_user"]["grants_added"]

    app = functools.partial(cluster.connect, "app_user", "app-Pw-1")
    ro = functools.partial(cluster.connect, "readonly_user", "ro-Pw-1")
    dev = functools.partial(cluster.connect, "devops_user", "dev-Pw-1")
    # app: read / write, no DDL
    assert can(app, "SELECT * FROM customers")
    assert can(app, "INSERT INTO customers (email) VALUES ('app@x')")
    assert can(app, "UPDATE orders SET total = 1")
    assert not can(app, "CREATE TABLE app_made (id int)")
    # readonly: read only
    assert can(ro, "SELECT * FROM customers")
    assert not can(ro, "INSERT INTO customers (email) VALUES ('ro@x')")
    assert not can(ro, "DELETE FROM customers")
    assert not can(ro, "CREATE TABLE ro_made (id int)")
    # devops: app + DDL + monitoring
    assert can(dev, "INSERT INTO customers (email) VALUES ('dev@x')")
    assert can(dev, "CREATE TABLE devops_made (id int)")
    assert can(dev, "SELECT * FROM pg_stat_activity")
    assert cluster.admin("SELECT pg_has_role('devops_user', 'pg_monitor', 'member'), pg_has_role('devops_user', 'pg_signal_backend', 'member'), "
                         "pg_has_role('app_user', 'pg_monitor', 'member')") == [(True, True, False)]
    # default privileges: a table the master creates later is readable by readonly, writable by app
    conn = cluster.connect(MASTER, MASTER_PASSWORD)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE later (id int)")
    conn.commit()
    conn.close()
    assert can(ro, "SELECT * FROM later") and not can(ro, "INSERT INTO later VALUES (1)")
    assert can(app, "INSERT INTO later VALUES (1)")

    # idempotent rerun
    run = cluster.run(tmp_path, args)
    assert run.rc == 0, run.output
    res = run.result("db users")
    assert res["changed"] is False, res["statements"]
    assert res["statements"] == []
    assert all(u["password_reason"] == "unchanged" for u in res["users"])
    # the table devops_user created is its own: the master cannot grant on it, and says so
    assert any("public.devops_made (owner devops_user)" in w for w in res.get("warnings", [])), res.get("warnings")


def test_flat_layout_rotation_and_forced_reset(cluster, tmp_path):
    secret_id = cluster.put("users", {"app_username": "svc", "app_password": "first-pw", "readonly_username": "report",
                                      "readonly_password": "ro-first"})
    args = {"users_secret_id": secret_id, "users_secret_layout": "flat"}
    assert cluster.run(tmp_path, args).rc == 0
    cluster.connect("svc", "first-pw").close()

    cluster.put("users", {"app_username": "svc", "app_password": "second-pw", "readonly_username": "report",
                          "readonly_password": "ro-first"})
    run = cluster.run(tmp_path, args)
    assert run.rc == 0, run.output
    res = run.result("db users")
    assert res["changed"] is True
    svc = {u["name"]: u for u in res["users"]}["svc"]
    assert svc["password_changed"] is True and svc["password_reason"] == "secret version changed"
    assert login_fails(cluster, "svc", "first-pw")
    cluster.connect("svc", "second-pw").close()

    assert cluster.run(tmp_path, args, check=True).result("db users")["changed"] is False
    res = cluster.run(tmp_path, dict(args, force_password_reset=True)).result("db users")
    assert res["changed"] is True and all(u["password_reason"] == "forced" for u in res["users"])


def test_combined_layout_and_exclusive(cluster, tmp_path):
    # leftovers of the source environment, owning objects and holding grants
    cluster.admin("CREATE ROLE old_app LOGIN PASSWORD 'old-pw'")
    cluster.admin("CREATE ROLE rdsproxy_like LOGIN")
    cluster.admin("CREATE ROLE group_only NOLOGIN")
    cluster.admin("GRANT CREATE ON SCHEMA public TO old_app")
    cluster.admin("CREATE TABLE public.old_table (id int)")
    cluster.admin("ALTER TABLE public.old_table OWNER TO old_app")
    cluster.admin("GRANT SELECT ON public.customers TO old_app")
    secret_id = cluster.put("combined", {"master_username": MASTER, "master_password": MASTER_PASSWORD, "database": "app",
                                         "app_username": "app_user", "app_password": "a-pw", "readonly_username": "ro_user",
                                         "readonly_password": "r-pw"})
    args = {"users_secret_id": secret_id, "users_secret_layout": "combined", "master_secret_id": None}

    run = cluster.run(tmp_path, args)
    assert run.rc == 0, run.output
    res = run.result("db users")
    assert res["unmanaged_users"] == ["old_app"]
    assert res["dropped"] == []

    run = cluster.run(tmp_path, dict(args, exclusive=True), diff=True)
    assert run.rc == 0, run.output
    res = run.result("db users")
    assert res["changed"] is True and res["dropped"] == ["old_app"]
    roles = {r[0] for r in cluster.admin("SELECT rolname FROM pg_roles")}
    assert "old_app" not in roles
    assert {"master", "postgres", "rdsproxy_like", "group_only", "app_user", "ro_user"} <= roles
    assert cluster.admin("SELECT tableowner FROM pg_tables WHERE tablename = 'old_table'") == [("master",)]

    res = cluster.run(tmp_path, dict(args, exclusive=True)).result("db users")
    assert res["changed"] is False and res["unmanaged_users"] == [], res["statements"]


HOSTILE_USERS = [
    ("o'brien", "pa'ss\"word;--"),
    ('semi;colon"; DROP ROLE master; --', "back\\slash\\'\\"),
    ("ünïcødé_用户", "пароль-密码-🔑 ' OR 1=1"),
    ("Mixed Case", "$$dollar$$ quoted $tag$"),
]


def test_hostile_names_and_passwords_custom_grants(cluster, tmp_path):
    secret = {f"u{i}": password for i, (_name, password) in enumerate(HOSTILE_USERS)}
    secret_id = cluster.put("hostile", {f"u{i}": {"password": pw} for i, (_n, pw) in enumerate(HOSTILE_USERS)})
    cluster.secret_values += list(secret.values())
    users = [{"name": name, "password_secret_id": secret_id, "password_secret_key": f"u{i}.password", "profile": "readonly"}
             for i, (name, _pw) in enumerate(HOSTILE_USERS)]
    users[0].update(profile="custom", connection_limit=3, valid_until="2099-01-01",
                    grants=[{"type": "table", "objects": ["orders"], "privileges": ["SELECT", "INSERT"]}])
    users[1].update(member_of=["pg_read_all_stats"])
    args = {"users": users}
    run = cluster.run(tmp_path, args)
    assert run.rc == 0, run.output
    res = run.result("db users")
    assert res["changed"] is True
    for name, password in HOSTILE_USERS:
        cluster.connect(name, password).close()
    assert cluster.admin("SELECT rolconnlimit, rolvaliduntil::date::text FROM pg_roles WHERE rolname = %s", ("o'brien",)) == [(3, "2099-01-01")]
    assert {r[0] for r in cluster.admin("SELECT rolname FROM pg_roles")} >= {"master", "ünïcødé_用户"}
    custom = functools.partial(cluster.connect, "o'brien", HOSTILE_USERS[0][1])
    assert can(custom, "INSERT INTO orders (id, total) VALUES (100, 2)")
    assert not can(custom, "SELECT * FROM customers")
    assert cluster.admin("SELECT pg_has_role(%s, 'pg_read_all_stats', 'member')", (HOSTILE_USERS[1][0],)) == [(True,)]

    run = cluster.run(tmp_path, args)
    assert run.rc == 0, run.output
    assert run.result("db users")["changed"] is False, run.result("db users")["statements"]

    # a privilege granted behind the module's back is revoked; a removed member_of is revoked
    cluster.admin('GRANT DELETE ON public.orders TO "o\'brien"')
    users[1]["member_of"] = []
    res = cluster.run(tmp_path, args).result("db users")
    by_name = {u["name"]: u for u in res["users"]}
    assert by_name["o'brien"]["grants_revoked"] == ["DELETE ON TABLE public.orders"]
    assert by_name[HOSTILE_USERS[1][0]]["grants_revoked"] == ["MEMBER OF pg_read_all_stats"]


def test_post_restore_sql_once_and_smoke_checks(cluster, tmp_path):
    sql_file = tmp_path / "mask.sql"
    sql_file.write_text("UPDATE public.customers SET visits = visits + 1;\nUPDATE public.customers SET visits = visits + 10;\n")
    users = cluster.put("users", {"app_username": "app_user", "app_password": "app-pw"})
    args = {"users_secret_id": users, "restore_marker": "op-1",
            "post_restore_sql": ["UPDATE public.customers SET email = 'user' || id || '@example.invalid'"],
            "post_restore_sql_files": [str(sql_file)],
            "smoke_checks": [{"name": "masked", "query": "SELECT count(*) FROM customers WHERE email NOT LIKE '%@example.invalid'",
                              "expect_value": 0},
                             {"name": "app can read", "query": "SELECT 1 FROM customers", "run_as": "app_user"},
                             {"name": "no orphans", "query": "SELECT 1 FROM orders WHERE customer_id IS NULL", "expect_rows": False}]}
    run = cluster.run(tmp_path, args, check=True)
    assert run.rc == 0, run.output
    assert run.result("db users")["post_restore_sql"]["status"] == "would_apply"
    assert cluster.admin("SELECT visits FROM customers ORDER BY id") == [(0,), (0,)]

    run = cluster.run(tmp_path, args)
    assert run.rc == 0, run.output
    res = run.result("db users")
    assert res["post_restore_sql"]["status"] == "applied"
    assert [c["passed"] for c in res["smoke_checks"]] == [True, True, True]
    assert cluster.admin("SELECT visits, email FROM customers ORDER BY id") == [(11, "user1@example.invalid"), (11, "user2@example.invalid")]

    run = cluster.run(tmp_path, args)
    res = run.result("db users")
    assert res["changed"] is False and res["post_restore_sql"]["status"] == "skipped"
    assert cluster.admin("SELECT visits FROM customers ORDER BY id") == [(11,), (11,)]

    # a new restore marker applies it again
    res = cluster.run(tmp_path, dict(args, restore_marker="op-2")).result("db users")
    assert res["changed"] is True and res["post_restore_sql"]["status"] == "applied"
    assert cluster.admin("SELECT visits FROM customers ORDER BY id") == [(22,), (22,)]

    # failing smoke check
    failing = dict(args, smoke_checks=[{"name": "customers exist twice", "query": "SELECT count(*) FROM customers", "expect_value": 3}])
    run = cluster.run(tmp_path, failing)
    assert run.rc != 0
    res = run.result("db users")
    assert res["failed"] is True
    assert res["msg"] == "smoke check 'customers exist twice' failed: expected value '3', got '2'"
    assert res["changed"] is False and res["smoke_checks"][0]["passed"] is False
    # failing post-restore SQL: nothing applied, clear message
    broken = dict(args, restore_marker="op-3", post_restore_sql=["UPDATE public.customers SET visits = 0", "UPDATE nope SET x = 1"],
                  post_restore_sql_files=[], smoke_checks=[])
    res = cluster.run(tmp_path, broken).result("db users")
    assert res["msg"] == "post-restore SQL 'inline[1]' failed (nothing of it was applied): relation \"nope\" does not exist"
    assert cluster.admin("SELECT visits FROM customers ORDER BY id") == [(22,), (22,)]


def test_bad_inputs_fail_clearly_without_secrets(cluster, tmp_path):
    wrong = cluster.put("wrong-master", {"username": MASTER, "password": "not-the-Password!"})
    cluster.secret_values.append("not-the-Password!")
    good_users = cluster.put("users", {"app_username": "app_user", "app_password": "app-Secret-9"})
    not_json = cluster.put("not-json", "{'username': 'master', password: hunter2-Secret}")
    cluster.secret_values.append("hunter2-Secret")
    no_layout = cluster.put("no-layout", {"user": "x", "pass": "Layout-Secret-7"})
    cluster.secret_values.append("Layout-Secret-7")
    bad_nested = cluster.put("bad-nested", {"application_user": {"username": "a"}})
    array = cluster.put("array", '["Array-Secret-1"]')
    cluster.secret_values.append("Array-Secret-1")
    base = {"login_host": cluster.server.host, "login_port": cluster.server.port, "database": "app",
            "master_secret_id": cluster.name("master"), "connect_retries": 0, "users_secret_id": good_users}
    closed = 1  # a privileged port nothing here listens on: a free ephemeral port could go to another worker's cluster
    cases = {
        "unreachable": dict(base, login_port=closed, connect_retries=1, connect_retry_delay=0.2),
        "wrong master password": dict(base, master_secret_id=wrong),
        "ssl required": dict(base, ssl_mode="require"),
        "missing ca bundle": dict(base, ssl_mode="verify-full", ca_cert="/nonexistent/rds-ca.pem"),
        "missing secret": dict(base, users_secret_id=cluster.name("nope")),
        "not json": dict(base, master_secret_id=not_json),
        "no layout": dict(base, users_secret_id=no_layout),
        "nested without password": dict(base, users_secret_id=bad_nested),
        "json array": dict(base, users_secret_id=array),
        "reserved name": dict(base, users_secret_id=None, users=[{"name": "pg_evil", "password_secret_id": good_users,
                                                                  "password_secret_key": "app_password"}]),
        "too long name": dict(base, users_secret_id=None, users=[{"name": "x" * 64}]),
        "missing schema": dict(base, schemas=["nope"]),
        "bad privilege": dict(base, users=[{"name": "c", "profile": "custom", "grants": [{"type": "schema", "privileges": ["SELECT"]}]}]),
        "bad valid_until": dict(base, users_secret_id=None, users=[{"name": "c", "valid_until": "someday"}]),
        "sql without marker": dict(base, post_restore_sql=["SELECT 1"]),
        "manage master": dict(base, users_secret_id=None, users=[{"name": MASTER}]),
    }
    tasks = [{"name": name, "dbops.aurora_restore.aurora_db_users": args, "ignore_errors": True} for name, args in cases.items()]
    run = cluster.run(tmp_path, tasks=tasks)
    msgs = {name: run.result(name).get("msg") for name in cases}
    (tmp_path / "bad_inputs.json").write_text(json.dumps(msgs, indent=1, ensure_ascii=False))
    for name in cases:
        assert run.result(name).get("failed") is True, (name, run.result(name))
    port = cluster.server.port
    sid = cluster.name
    assert msgs["unreachable"].startswith(f"cannot connect to 127.0.0.1:{closed} (database 'app') as 'master' after 2 attempt(s)")
    assert "Connection refused" in msgs["unreachable"]
    assert msgs["wrong master password"] == (f"cannot connect to 127.0.0.1:{port} (database 'app') as 'master': "
                                             "password authentication failed for user \"master\"")
    assert msgs["ssl required"] == f"cannot connect to 127.0.0.1:{port} (database 'app') as 'master': server does not support SSL, but SSL was required"
    assert msgs["missing ca bundle"] == msgs["ssl required"]  # libpq checks the server's SSL support first
    assert msgs["missing secret"] == f"secret '{sid('nope')}' not found (or it has no version AWSCURRENT)"
    assert msgs["not json"] == f"secret '{not_json}' is not valid JSON (error at line 1 column 2)"
    assert msgs["no layout"].startswith(f"secret '{no_layout}': cannot detect its layout")
    assert msgs["nested without password"] == f"secret '{bad_nested}': key 'application_user.password' is missing"
    assert msgs["json array"] == f"secret '{array}' is JSON but not an object (got list); expected {{\"key\": \"value\", ...}}"
    assert msgs["reserved name"] == "user name 'pg_evil' starts with 'pg_', which PostgreSQL reserves"
    assert msgs["too long name"] == "user name '" + "x" * 64 + "' is longer than 63 bytes (PostgreSQL would truncate it)"
    assert msgs["missing schema"] == "schema 'nope' does not exist in database 'app'"
    assert msgs["bad privilege"] == "user 'c': privilege 'SELECT' is not valid on a schema; use CREATE, USAGE or ALL"
    assert msgs["bad valid_until"].startswith("valid_until 'someday' is not a PostgreSQL timestamp: invalid input syntax")
    assert "restore_marker" in msgs["sql without marker"]
    assert msgs["manage master"].startswith("user 'master' is the master user")
    for msg in msgs.values():
        assert "\n" not in msg
    # nothing was created by any of the failures
    assert cluster.admin("SELECT rolname FROM pg_roles WHERE rolname IN ('app_user', 'c', 'pg_evil')") == []


def _make_tls(directory):
    """A CA and a server certificate for localhost (not for 127.0.0.1), plus an unrelated CA."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-rds-ca", "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other-ca", "-keyout", "other.key", "-out", "other.pem")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr")
    (Path(directory) / "san.ext").write_text("subjectAltName=DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "san.ext", "-out", "server.crt")


def test_ssl_verify_full_with_ca_bundle(cluster, tmp_path):
    tls = Path(tempfile.mkdtemp(prefix="dbusers-tls-", dir="/tmp"))
    try:
        _make_tls(tls)
        data_dir = Path(cluster.server.data_dir)
        owner = data_dir.stat()
        for name in ("server.crt", "server.key"):
            target = data_dir / name
            target.write_bytes((tls / name).read_bytes())
            os.chown(target, owner.st_uid, owner.st_gid)
            os.chmod(target, 0o600)
        cluster.admin("ALTER SYSTEM SET ssl = on", dbname="postgres")
        cluster.admin("SELECT pg_reload_conf()", dbname="postgres")
        _wait_for_ssl(cluster)
        users = cluster.put("users", {"readonly_username": "tls_reader", "readonly_password": "tls-pw"})
        good = {"users_secret_id": users, "ssl_mode": "verify-full", "ca_cert": str(tls / "ca.pem"), "login_host": "localhost"}
        tasks = [
            {"name": "verified", "dbops.aurora_restore.aurora_db_users": dict(good, login_port=cluster.server.port, database="app",
                                                                              master_secret_id=cluster.name("master"), connect_retries=0)},
            {"name": "wrong ca", "ignore_errors": True,
             "dbops.aurora_restore.aurora_db_users": dict(good, ca_cert=str(tls / "other.pem"), login_port=cluster.server.port, database="app",
                                                          master_secret_id=cluster.name("master"), connect_retries=3)},
            {"name": "wrong host name", "ignore_errors": True,
             "dbops.aurora_restore.aurora_db_users": dict(good, login_host="127.0.0.1", login_port=cluster.server.port, database="app",
                                                          master_secret_id=cluster.name("master"), connect_retries=3)},
        ]
        run = cluster.run(tmp_path, tasks=tasks)
        assert run.result("verified").get("failed") is not True, run.result("verified").get("msg")
        assert run.result("verified")["changed"] is True
        wrong_ca = run.result("wrong ca")
        assert wrong_ca["failed"] is True
        # a certificate problem is not retried
        assert wrong_ca["msg"].startswith(f"cannot connect to localhost:{cluster.server.port} (database 'app') as 'master': ")
        assert "certificate verify failed" in wrong_ca["msg"] and "attempt" not in wrong_ca["msg"]
        wrong_host = run.result("wrong host name")["msg"]
        assert wrong_host.startswith(f"cannot connect to 127.0.0.1:{cluster.server.port} (database 'app') as 'master': server certificate for")
        assert wrong_host.endswith('does not match host name "127.0.0.1"') and "attempt" not in wrong_host
        conn = psycopg2.connect(host="localhost", port=cluster.server.port, dbname="app", user="tls_reader", password="tls-pw",
                                sslmode="verify-full", sslrootcert=str(tls / "ca.pem"))
        with conn.cursor() as cur:
            cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            assert cur.fetchone() == (True,)
        conn.close()
        (tmp_path / "tls_msgs.json").write_text(json.dumps({"wrong ca": wrong_ca["msg"], "wrong host": run.result("wrong host name")["msg"]}))
    finally:
        subprocess.run(["rm", "-rf", str(tls)], check=False)


def test_emulated_aurora_cluster_end_to_end(aws_env, tmp_path):
    """The real use: users on a cluster the emulator's RDS API created, host and port taken from the API."""
    rds = boto3.client("rds")
    sm = boto3.client("secretsmanager")
    password = "Emul4ted-master;pw"  # Aurora master passwords exclude / " @ ' and space
    rds.create_db_cluster(DBClusterIdentifier="dbusers-e2e", Engine="aurora-postgresql", MasterUsername="clustermaster",
                          MasterUserPassword=password)
    rds.create_db_instance(DBInstanceIdentifier="dbusers-e2e-1", DBClusterIdentifier="dbusers-e2e", Engine="aurora-postgresql",
                           DBInstanceClass="db.r6g.large")
    deadline = time.time() + 120
    while True:
        cluster = rds.describe_db_clusters(DBClusterIdentifier="dbusers-e2e")["DBClusters"][0]
        instance = rds.describe_db_instances(DBInstanceIdentifier="dbusers-e2e-1")["DBInstances"][0]
        if cluster["Status"] == "available" and instance["DBInstanceStatus"] == "available":
            break
        assert time.time() < deadline, (cluster["Status"], instance["DBInstanceStatus"])
        time.sleep(0.5)
    sm.create_secret(Name="e2e/master", SecretString=json.dumps({"username": "clustermaster", "password": password}))
    sm.create_secret(Name="e2e/users", SecretString=json.dumps({"application_user": {"username": "app_user", "password": "e2e-app-pw"},
                                                                "readonly_user": {"username": "ro_user", "password": "e2e-ro-pw"}}))
    args = {"login_host": cluster["Endpoint"], "login_port": cluster["Port"], "master_secret_id": "e2e/master",
            "users_secret_id": "e2e/users", "connect_retries": 10, "connect_retry_delay": 1}
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
             "tasks": [{"name": "db users", "dbops.aurora_restore.aurora_db_users": args},
                       {"name": "again", "dbops.aurora_restore.aurora_db_users": args}]}]
    run = run_playbook(json.dumps(play), tmp_path)
    assert run.rc == 0, run.output
    assert run.result("db users")["changed"] is True and run.result("again")["changed"] is False
    for secret in (password, "e2e-app-pw", "e2e-ro-pw"):
        assert secret not in run.output
    conn = psycopg2.connect(host=cluster["Endpoint"], port=cluster["Port"], dbname="postgres", user="app_user", password="e2e-app-pw")
    conn.close()


def test_secrets_read_once_each_and_throttling_retried(aws_env, aws, pg, tmp_path):
    """Many users sharing one secret cost one GetSecretValue; throttled reads are retried, not fatal."""
    emulator = aws_env
    cluster = Cluster(pg, aws, "throttle")
    shared = cluster.put("shared", {f"u{i}": f"shared-pw-{i}" for i in range(5)})
    cluster.secret_values += [f"shared-pw-{i}" for i in range(5)]
    users = [{"name": f"svc{i}", "profile": "readonly", "password_secret_id": shared, "password_secret_key": f"u{i}"} for i in range(5)]
    emulator.clear_counts()
    emulator.set_faults([{"service": "secretsmanager", "action": "GetSecretValue", "kind": "throttle", "rate": 1.0, "times": 3}])
    try:
        run = cluster.run(tmp_path, {"users": users})
    finally:
        emulator.set_faults([])
    assert run.rc == 0, run.output
    assert run.result("db users")["changed"] is True
    calls = emulator.counts()["services"]["secretsmanager"]["GetSecretValue"]
    assert calls == 2 + 3, emulator.counts()  # master + shared, plus the three throttled attempts
    cluster.connect("svc4", "shared-pw-4").close()
