"""Where moto's SNS is stricter than AWS.

AWS documents `json` as the only MessageStructure value but publishes any other value as a plain message;
community.aws.sns always sends one (`string` is what it needs for message attributes). moto rejects
anything but `json`, so a plain message with attributes could not be published at all.
"""

from __future__ import annotations

from moto.sns.models import SNSBackend


def install() -> None:
    original = SNSBackend.publish
    if getattr(original, "_localaws", False):
        return

    def publish(self, *args, **kwargs):
        if kwargs.get("message_structure") not in (None, "json"):
            kwargs["message_structure"] = None
        return original(self, *args, **kwargs)

    publish._localaws = True
    SNSBackend.publish = publish
