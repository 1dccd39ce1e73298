"""generate_offers: runs, idempotency, expiry, lapsed consent (the policy: test_contact_policy)."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from offers import engine
from offers.models import Offer

from .conftest import AS_OF


def generate(now, as_of=AS_OF, **kwargs):
    return engine.generate_offers(as_of=as_of, now=now, **kwargs)


def test_a_run_proposes_offers_with_evidence_and_counts_per_rule(traveller, student, saver, now):
    run = generate(now)
    offers = {o.rule: o for o in Offer.objects.all()}
    assert set(offers) == {"travel_world_cover", "student_account", "savings_account"}
    travel = offers["travel_world_cover"]
    assert (travel.customer, travel.product.code, travel.status, travel.run) == (
        traveller,
        "travel_insurance_world",
        "proposed",
        run,
    )
    assert travel.evidence_en == "2 card payments in the United States, last on 21 Oct"
    assert list(travel.relied_on.values_list("purpose__code", flat=True)) == ["offers_spending"]
    assert travel.valid_until == AS_OF + dt.timedelta(days=60)
    assert run.status == "finished" and run.finished_at >= run.started_at
    assert run.counts["travel_world_cover"] == {
        "considered": 1,
        "candidates": 1,
        "offered": 1,
        "already_offered": 0,
        "suppressed_by_policy": 0,
    }


def test_running_twice_for_the_same_date_creates_no_second_offer(traveller, student, now):
    generate(now)
    second = generate(now + dt.timedelta(minutes=5))
    assert Offer.objects.count() == 2
    assert second.counts["travel_world_cover"]["already_offered"] == 1
    assert second.counts["travel_world_cover"]["offered"] == 0


def test_an_interrupted_run_is_completed_by_running_again(traveller, student, saver, now):
    # The first chunk commits, then the process dies before the rest.
    run, _ = engine.open_run(as_of=AS_OF, now=now, chunk_size=1)
    first = run.chunks.order_by("number").first()
    engine.execute_chunk(chunk_id=first.pk, worker="test", clock=timezone.now)
    assert Offer.objects.count() == 1

    rerun = generate(now + dt.timedelta(hours=1), chunk_size=1)
    assert (rerun.pk, rerun.status) == (run.pk, "finished")
    assert Offer.objects.count() == 3
    assert set(rerun.chunks.values_list("status", flat=True)) == {"done"}


def test_chunked_and_whole_runs_make_the_same_offers(traveller, student, saver, now):
    # Offers and their events are never deleted: roll the chunked run back instead.
    with transaction.atomic():
        generate(now, chunk_size=1)
        chunked = set(Offer.objects.values_list("customer", "rule", "evidence_en"))
        transaction.set_rollback(True)
    assert not Offer.objects.exists()
    generate(now)
    assert set(Offer.objects.values_list("customer", "rule", "evidence_en")) == chunked


def test_the_database_refuses_a_second_open_offer_for_a_product(traveller, now):
    generate(now)
    offer = Offer.objects.get()
    offer.pk = None
    offer.as_of = AS_OF + dt.timedelta(days=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        offer.save()


def test_overdue_offers_expire(traveller, now):
    generate(now)
    later = now + dt.timedelta(days=61)
    run = generate(later, as_of=timezone.localdate(later))
    assert run.expired == 1
    assert Offer.objects.filter(status="expired").count() == 1


@override_settings(CONSENT_MAX_AGE_DAYS=31)
def test_offers_whose_consent_expired_are_retracted_by_the_next_run(traveller, now):
    # Sanne consented 30 days ago: valid on AS_OF, expired the day after. Nothing is
    # recorded when a consent grows too old, so the next run is what retracts.
    generate(now)
    later = now + dt.timedelta(days=1)
    run = generate(later, as_of=AS_OF + dt.timedelta(days=1))
    assert run.retracted == 1
    assert Offer.objects.get().status == "retracted"


def test_rule_option_runs_only_that_rule(traveller, saver, now):
    generate(now, rule_codes=["savings_account"])
    assert list(Offer.objects.values_list("rule", flat=True)) == ["savings_account"]


def test_the_command_prints_counts(traveller, capsys):
    call_command("generate_offers", "--as-of", "2026-11-02", "--rule", "travel_world_cover")
    out = capsys.readouterr().out
    assert "travel_world_cover: considered 1, candidates 1, offered 1" in out
