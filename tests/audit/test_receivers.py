from __future__ import annotations

from django.test import Client

from apps.audit.models import Event
from apps.audit.verification import audit_verify


def actions() -> list[tuple[str, str, str]]:
    return list(Event.objects.order_by("seq").values_list("action", "actor", "object_id"))


def test_signing_in_out_and_failing_to_are_recorded(alice):
    client = Client()
    client.post("/login/", {"username": "alice", "password": "wrong"})
    client.post("/login/", {"username": "alice", "password": "alice-pw"})
    client.post("/logout/")
    recorded = [a for a in actions() if a[0].startswith("auth.")]
    assert recorded == [
        ("auth.sign_in_failed", "", "alice"),
        ("auth.signed_in", "alice", str(alice.pk)),
        ("auth.signed_out", "alice", str(alice.pk)),
    ]
    failed = Event.objects.get(action="auth.sign_in_failed")
    assert "wrong" not in str(failed.payload) and failed.role == "system"


def test_a_failed_basic_auth_sign_in_is_recorded(alice):
    Client().get("/api/v1/answers/1", HTTP_AUTHORIZATION="Basic YWxpY2U6d3Jvbmc=")
    assert ("auth.sign_in_failed", "", "alice") in actions()


def test_every_change_through_the_admin_is_recorded(admin_client, corpus_a, corpus_b):
    from apps.corpora.models import Corpus

    admin_client.post(
        f"/admin/corpora/corpus/{corpus_a.pk}/change/",
        {
            "slug": "a",
            "name": "Corpus A renamed",
            "domain": "legal",
            "chunk_target_tokens": 200,
            "chunk_max_tokens": 256,
            "chunk_overlap_tokens": 32,
            "chunk_include_headings": "on",
        },
    )
    admin_client.post(
        "/admin/corpora/corpus/",
        {
            "action": "delete_selected",
            "_selected_action": [corpus_a.pk, corpus_b.pk],
            "post": "yes",
        },
    )
    assert not Corpus.objects.exists()
    changes = [a for a in actions() if a[0].startswith("admin.")]
    assert changes == [
        ("admin.changed", "admin", str(corpus_a.pk)),
        ("admin.deleted", "admin", str(corpus_a.pk)),
        ("admin.deleted", "admin", str(corpus_b.pk)),
    ]
    changed = Event.objects.get(action="admin.changed")
    assert changed.object_type == "corpora.corpus" and "renamed" not in str(changed.payload)
    assert audit_verify().ok
