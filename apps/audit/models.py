from __future__ import annotations

from django.db import models


class Event(models.Model):
    """One link of the audit trail. `hash` is sha256 over `prev_hash` and the canonical event
    (apps.audit.hashing.event_hash); the database refuses UPDATE and DELETE on this table."""

    seq = models.BigIntegerField(primary_key=True, help_text="1, 2, 3, … with no gap")
    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150, blank=True, help_text="the user name, if any")
    role = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(default=dict, blank=True, help_text="ids and hashes, never text")
    # Unique: two events naming the same predecessor would be a fork.
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_event_object"),
            models.Index(fields=["action", "created_at"], name="audit_event_action"),
            models.Index(fields=["actor_id", "created_at"], name="audit_event_actor"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id}".strip()

    def chained(self) -> dict:
        """What the hash covers besides the previous hash."""
        return {
            "seq": self.seq,
            "time": self.created_at,
            "actor_id": self.actor_id,
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "payload": self.payload,
        }


class Checkpoint(models.Model):
    """The head of the chain (sequence number and hash) signed with an Ed25519 key, so that
    the chain up to it can be checked against a copy kept elsewhere."""

    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    algorithm = models.CharField(max_length=20, default="Ed25519")
    public_key = models.CharField(max_length=64, help_text="raw public key, hex")
    signature = models.CharField(max_length=128, help_text="hex")

    class Meta:
        ordering = ["-seq", "-id"]

    def __str__(self) -> str:
        return f"checkpoint at #{self.seq} ({self.signed_at:%Y-%m-%d %H:%M})"
