from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from apps.accounts.models import Role
from apps.accounts.selectors import readable_corpora
from apps.accounts.services import corpus_access_grant, corpus_access_revoke, role_assign


def slugs(user):
    return set(readable_corpora(user).values_list("slug", flat=True))


def test_each_user_reads_only_what_was_granted(alice, bob, carol):
    assert slugs(alice) == {"a"}
    assert slugs(bob) == {"b"}
    assert slugs(carol) == set()
    assert slugs(AnonymousUser()) == set()


def test_a_group_grant_reaches_every_member(carol, corpus_b):
    group = Group.objects.create(name="litigation team")
    carol.groups.add(group)
    corpus_access_grant(corpus=corpus_b, group=group)

    assert slugs(carol) == {"b"}


def test_a_revoked_grant_takes_effect_on_the_next_call(alice, corpus_a):
    assert corpus_access_revoke(corpus=corpus_a, user=alice) == 1
    assert slugs(alice) == set()


def test_inactive_users_read_nothing(alice):
    alice.is_active = False
    alice.save()
    assert slugs(alice) == set()


def test_superusers_read_every_corpus(django_user_model, corpus_a, corpus_b):
    root = django_user_model.objects.create_superuser("root", password="x")
    assert slugs(root) == {"a", "b"}


def test_a_grant_names_exactly_one_of_user_or_group(alice, corpus_a):
    with pytest.raises(ValueError, match="exactly one"):
        corpus_access_grant(corpus=corpus_a)


def test_roles_are_groups_with_the_right_permissions(alice):
    role_assign(user=alice, role=Role.CORPUS_ADMIN)
    alice.refresh_from_db()
    assert alice.is_staff
    assert alice.has_perm("corpora.add_corpus")
    assert alice.has_perm("accounts.change_corpusaccess")
    assert {g.value for g in Role} <= set(Group.objects.values_list("name", flat=True))
