"""`localaws seed`: a "production" Aurora PostgreSQL cluster in us-east-1 with sample data, and a snapshot.

Uses only the public API (boto3 against the emulator) plus a SQL connection to the endpoint the API reports,
exactly as a user would.  The data is fake but looks personal (names, emails, phones, dates of birth, card
digits), so masking SQL has something to mask.
"""

from __future__ import annotations

import random
import time

SOURCE_REGION = "us-east-1"
CLUSTER_ID = "production"
INSTANCE_ID = "production-1"
SNAPSHOT_ID = "production-seed"
KMS_ALIAS = "alias/production-aurora"
SECRET_NAME = "production/aurora/master"
MASTER_USERNAME = "postgres"
MASTER_PASSWORD = "production-master-pw"  # emulator only; also stored in Secrets Manager like a real setup
DATABASE = "appdb"
CUSTOMERS = 2000
ORDERS = 5000

FIRST = ["Alice", "Bob", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca",
         "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Smith", "Garcia", "Nguyen", "Müller", "Rossi", "Kowalski", "Okafor", "Tanaka", "Silva", "Dubois",
        "Jensen", "Haddad", "Petrov", "Murphy", "Kim"]

SCHEMA = """
CREATE TABLE customers (
    id            integer PRIMARY KEY,
    full_name     text NOT NULL,
    email         text NOT NULL UNIQUE,
    phone         text NOT NULL,
    date_of_birth date NOT NULL,
    address       text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers(id),
    amount      numeric(10,2) NOT NULL,
    status      text NOT NULL,
    ordered_at  timestamptz NOT NULL
);
CREATE TABLE payment_methods (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers(id),
    card_holder text NOT NULL,
    card_last4  char(4) NOT NULL,
    iban        text
);
"""


def _rows(rng: random.Random):
    customers, orders, payments = [], [], []
    for i in range(1, CUSTOMERS + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        customers.append((i, f"{first} {last}", f"{first.lower()}.{last.lower()}{i}@example.com",
                          f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                          f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                          f"{rng.randint(1, 999)} {rng.choice(LAST)} Street, Springfield"))
        payments.append((i, i, f"{first} {last}", f"{rng.randint(0, 9999):04d}",
                         f"DE{rng.randint(10, 99)}{rng.randint(10**17, 10**18 - 1)}"))
    for i in range(1, ORDERS + 1):
        orders.append((i, rng.randint(1, CUSTOMERS), round(rng.uniform(5, 500), 2),
                       rng.choice(["paid", "shipped", "refunded"]), f"2024-{rng.randint(1, 12):02d}-01"))
    return customers, orders, payments


def _wait(check, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"timed out waiting for {what}")


def load_sample_data(host: str, port: int, password: str) -> None:
    import psycopg2
    from psycopg2.extras import execute_values

    conn = psycopg2.connect(host=host, port=port, user=MASTER_USERNAME, password=password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {DATABASE}")
    conn.close()
    customers, orders, payments = _rows(random.Random(20240101))  # same data every time
    conn = psycopg2.connect(host=host, port=port, user=MASTER_USERNAME, password=password, dbname=DATABASE)
    with conn, conn.cursor() as cur:
        cur.execute(SCHEMA)
        execute_values(cur, "INSERT INTO customers (id, full_name, email, phone, date_of_birth, address) VALUES %s",
                       customers)
        execute_values(cur, "INSERT INTO orders VALUES %s", orders)
        execute_values(cur, "INSERT INTO payment_methods VALUES %s", payments)
    conn.close()


SOURCE_ACCOUNT = "123456789012"


def key_policy(owner: str, users) -> dict:
    statements = [{"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner}:root"},
                   "Action": "kms:*", "Resource": "*"}]
    if users:
        principals = [f"arn:aws:iam::{account}:root" for account in users]
        statements += [
            {"Sid": "TargetAccountsUse", "Effect": "Allow", "Principal": {"AWS": principals},
             "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey*"], "Resource": "*"},
            {"Sid": "TargetAccountsGrants", "Effect": "Allow", "Principal": {"AWS": principals},
             "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}]
    return {"Version": "2012-10-17", "Statement": statements}


def seed(env: dict[str, str], wait: bool = True, key_users=None) -> dict:
    """Create KMS key, secret, cluster + writer, load data, snapshot it.  Returns the ids (JSON-able).

    `key_users`: accounts the key policy lets use the key (default: the emulator's member accounts)."""
    import json
    import os

    if key_users is None:
        key_users = [item.strip() for item in os.environ.get("LOCALAWS_MEMBER_ACCOUNTS", "210987654321").split(",")
                     if item.strip()]

    import boto3

    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=SOURCE_REGION)
    url = env["AWS_ENDPOINT_URL"]
    kms, rds, sm = (session.client(name, endpoint_url=url) for name in ("kms", "rds", "secretsmanager"))
    # Production's key lets the organization's non-production accounts use it, as sharing an encrypted snapshot needs
    # (docs/cross-account.md, step 2): the key policy names them beside the account itself.
    key = kms.create_key(Description="production Aurora storage key",
                         Policy=json.dumps(key_policy(SOURCE_ACCOUNT, key_users)))["KeyMetadata"]
    kms.create_alias(AliasName=KMS_ALIAS, TargetKeyId=key["KeyId"])
    secret = sm.create_secret(Name=SECRET_NAME, SecretString=json.dumps(
        {"username": MASTER_USERNAME, "password": MASTER_PASSWORD}))
    rds.create_db_cluster(DBClusterIdentifier=CLUSTER_ID, Engine="aurora-postgresql", EngineVersion="15.4",
                          MasterUsername=MASTER_USERNAME, MasterUserPassword=MASTER_PASSWORD,
                          StorageEncrypted=True, KmsKeyId=key["Arn"], DeletionProtection=True,
                          Tags=[{"Key": "env", "Value": "production"}])
    rds.create_db_instance(DBInstanceIdentifier=INSTANCE_ID, DBClusterIdentifier=CLUSTER_ID,
                           Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")

    def writer_available() -> bool:
        return rds.describe_db_instances(DBInstanceIdentifier=INSTANCE_ID)["DBInstances"][0]["DBInstanceStatus"] \
            == "available"

    _wait(writer_available, "the production writer")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER_ID)["DBClusters"][0]
    load_sample_data(cluster["Endpoint"], cluster["Port"], MASTER_PASSWORD)
    snapshot = rds.create_db_cluster_snapshot(DBClusterIdentifier=CLUSTER_ID,
                                              DBClusterSnapshotIdentifier=SNAPSHOT_ID)["DBClusterSnapshot"]
    if wait:
        def snapshot_available() -> bool:
            found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=SNAPSHOT_ID)["DBClusterSnapshots"]
            return found[0]["Status"] == "available"

        _wait(snapshot_available, "the seed snapshot")
    return {
        "region": SOURCE_REGION,
        "cluster_id": CLUSTER_ID,
        "cluster_arn": cluster["DBClusterArn"],
        "instance_id": INSTANCE_ID,
        "endpoint": cluster["Endpoint"],
        "port": cluster["Port"],
        "database": DATABASE,
        "master_username": MASTER_USERNAME,
        "master_secret_arn": secret["ARN"],
        "kms_key_arn": key["Arn"],
        "snapshot_id": SNAPSHOT_ID,
        "snapshot_arn": snapshot["DBClusterSnapshotArn"],
        "tables": {"customers": CUSTOMERS, "orders": ORDERS, "payment_methods": CUSTOMERS},
    }
