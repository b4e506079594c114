from __future__ import annotations

from apps.accounts.services import corpus_access_grant, corpus_access_revoke
from apps.audit.models import Event


def test_a_grant_and_its_revocation_leave_their_history(alice, corpus_b, carol):
    grant = corpus_access_grant(corpus=corpus_b, user=alice, actor=carol)
    corpus_access_grant(corpus=corpus_b, user=alice)  # again: nothing new
    assert corpus_access_revoke(corpus=corpus_b, user=alice, actor=carol) == 1
    assert corpus_access_revoke(corpus=corpus_b, user=alice) == 0

    given, revoked = Event.objects.filter(object_id=str(grant.pk), action__startswith="grant.")
    assert (given.action, given.actor) == ("grant.given", "carol")
    assert (revoked.action, revoked.actor) == ("grant.revoked", "carol")
    assert revoked.payload == {
        "grant": grant.pk,
        "corpus": "b",
        "corpus_id": corpus_b.pk,
        "user": alice.pk,
        "group": None,
        "granted_at": grant.granted_at.isoformat(),
    }
