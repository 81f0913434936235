"""What moto's DynamoDB leaves out of its answers that AWS always sends, and modules rely on.

DescribeTable / CreateTable carry a `TableId` on AWS; community.aws.dynamodb_table reads it
unconditionally (KeyError 'table_id' on bare moto). Each table gets a stable random id.
"""

from __future__ import annotations

import uuid

from moto.dynamodb.models.table import Table


def install() -> None:
    original = Table.describe
    if getattr(original, "_localaws", False):
        return

    def describe(self, base_key: str = "TableDescription"):
        result = original(self, base_key)
        if not hasattr(self, "_localaws_table_id"):
            self._localaws_table_id = str(uuid.uuid4())
        result[base_key].setdefault("TableId", self._localaws_table_id)
        return result

    describe._localaws = True
    Table.describe = describe
