"""The session store (infra.sessions.SessionStore) reads what Django's own database store
reads, from the same table, for live, expired, unknown and forged keys."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.backends import db as django_store
from django.contrib.sessions.models import Session
from django.utils import timezone

from infra.sessions import SessionStore

SAVED_AT = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 30))


@pytest.fixture
def saved_key(db):
    """A session saved at SAVED_AT by Django's own store, live for 15 minutes."""
    with time_machine.travel(SAVED_AT, tick=False):
        session = django_store.SessionStore()
        session["_auth_user_id"] = "42"
        session.set_expiry(15 * 60)
        session.save()
    return session.session_key


def loaded(store_class, key, *, at):
    with time_machine.travel(at, tick=False):
        session = store_class(session_key=key)
        return dict(session.items()), session.session_key


def test_the_settings_use_this_store(settings):
    assert settings.SESSION_ENGINE == "infra.sessions"


@pytest.mark.parametrize("minutes", [0, 14])
def test_a_live_session_reads_as_djangos_store_reads_it(saved_key, minutes):
    at = SAVED_AT + dt.timedelta(minutes=minutes)
    ours = loaded(SessionStore, saved_key, at=at)
    assert ours == loaded(django_store.SessionStore, saved_key, at=at)
    assert ours == ({"_auth_user_id": "42", "_session_expiry": 900}, saved_key)


def test_an_expired_session_is_empty_and_its_key_forgotten(saved_key):
    at = SAVED_AT + dt.timedelta(minutes=15, seconds=1)
    ours = loaded(SessionStore, saved_key, at=at)
    assert ours == loaded(django_store.SessionStore, saved_key, at=at) == ({}, None)


def test_an_unknown_key_never_becomes_the_key_of_a_new_session(saved_key):
    # Session fixation: a key the browser made up is not adopted when the session saves.
    with time_machine.travel(SAVED_AT, tick=False):
        session = SessionStore(session_key="attacker-chose-this-key-0123456789")
        assert dict(session.items()) == {}
        session["x"] = 1
        session.save()
    assert session.session_key != "attacker-chose-this-key-0123456789"
    assert not Session.objects.filter(session_key="attacker-chose-this-key-0123456789").exists()


def test_a_session_whose_data_was_changed_in_the_database_reads_as_empty(saved_key):
    # An insider who edits the row cannot make it say another user: the data is signed.
    row = Session.objects.get(session_key=saved_key)
    first = row.session_data[0]
    row.session_data = ("e" if first != "e" else "f") + row.session_data[1:]
    row.save()
    assert loaded(SessionStore, saved_key, at=SAVED_AT)[0] == {}


def test_the_read_of_a_second_session_compiles_no_sql(saved_key, django_assert_num_queries):
    from infra import sessions

    loaded(SessionStore, saved_key, at=SAVED_AT)
    compiled = sessions._live_session_query.cache_info()
    with django_assert_num_queries(1):
        loaded(SessionStore, saved_key, at=SAVED_AT)
    after = sessions._live_session_query.cache_info()
    assert (after.hits, after.misses) == (compiled.hits + 1, compiled.misses)
