"""Create the state and audit tables in whatever AWS endpoint the environment points at."""
import boto3

STATE_TABLE = "aurora-restore-state"
AUDIT_TABLE = "aurora-restore-audit"


def create_audit_tables(region="us-east-1", state_table=STATE_TABLE, audit_table=AUDIT_TABLE):
    client = boto3.client("dynamodb", region_name=region)
    client.create_table(
        TableName=state_table,
        KeySchema=[{"AttributeName": "operation_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "operation_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.create_table(
        TableName=audit_table,
        KeySchema=[{"AttributeName": "operation_id", "KeyType": "HASH"}, {"AttributeName": "timestamp", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "operation_id", "AttributeType": "S"},
            {"AttributeName": "timestamp", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def raw_items(client, table):
    """Every item of `table`, as DynamoDB stores it (for asserting what was, or was not, written)."""
    items, start = [], None
    while True:
        kwargs = {"TableName": table}
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = client.scan(**kwargs)
        items.extend(response["Items"])
        start = response.get("LastEvaluatedKey")
        if not start:
            return items
