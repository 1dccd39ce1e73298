"""The ledger verified as the bank runs it: the checkpoint host signs a checkpoint of the
log (taking the newest events in), then `verify_consent_ledger` checks everything."""

import io

from django.core.management import call_command


def checkpoint() -> str:
    out = io.StringIO()
    call_command("checkpoint_ledger", stdout=out)
    return out.getvalue()


def checkpoint_and_verify() -> str:
    checkpoint()
    out = io.StringIO()
    call_command("verify_consent_ledger", stdout=out)
    return out.getvalue()
