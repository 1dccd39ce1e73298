"""What the ledger tells the apps built on it.

`audit` is sent by `verify_consent_ledger` after the ledger's own checks. Each receiver
checks what its app keeps about the ledger's events and returns
`{customer number: [problem, ...]}` (empty when all is well); the command reports them
with the ledger's own. The consent app checks that the current state mirrors the ledger
and that every notice hash is the hash of a text that was published.
"""

from django.dispatch import Signal

audit = Signal()
