"""E-mail to a customer about an offer: the one place that would send it.

Nothing sends such an e-mail today (offers are shown on the offers page and followed up
by phone). Whatever sends one later goes through `send_offer_email`, which sends only
while the customer's e-mail choice counts (`consent.channels`, Telecommunicatiewet
art. 11.7: marketing by e-mail to a consumer needs their consent), checked at the moment
of sending, not when the e-mail was planned.
"""

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail

from consent.channels import channel_counts

from .models import Offer


def may_email_about_offers(*, customer, at: dt.datetime) -> bool:
    """Whether the bank may e-mail this customer about an offer at `at`."""
    return channel_counts(customer=customer, channel="email", at=at)


def send_offer_email(*, offer: Offer, subject: str, body: str, at: dt.datetime) -> bool:
    """Send `offer`'s customer an e-mail about it, only under a counting e-mail choice and
    to a customer with an address. Returns whether it was sent; nothing is sent otherwise."""
    customer = offer.customer
    if not customer.email or not may_email_about_offers(customer=customer, at=at):
        return False
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [customer.email])
    return True
