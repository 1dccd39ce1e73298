"""What the ledger tells the apps built on it.

`audit` is sent by `verify_consent_ledger` after the ledger's own checks. Each receiver
checks what its app keeps about the ledger's events and returns
`{customer number: [problem, ...]}` (empty when all is well); the command reports them
with the ledger's own. The consent app checks that the current state mirrors the ledger
and that every notice hash is the hash of a text that was published.
"""

from django.dispatch import Signal

audit = Signal()

# Sent by `checkpoint_ledger` as it writes a checkpoint's files (`checkpoint=`). Each
# receiver returns a dict of what it wants kept with the checkpoint, outside the database,
# for a restore: the API's feed reports its newest id.
checkpointed = Signal()

# Sent by `restore_ledger` once the log is whole again, before `restored` and before any
# app writes anything (`state=`, the checkpoint host's state.json): an app whose numbering
# outsiders have read moves it past anything they can have seen, so that nothing written
# from now on reuses a number (the API's feed ids, behind a marker). Returns a dict of
# counts, as `restored` does.
restoring = Signal()

# Sent by `restore_ledger` once the log is whole again after the database was restored
# from an older backup (`restore=`, a `ledger.models.Restore`). Each receiver does what its
# app must and returns a dict of counts: the consent app stops the consent-based
# processing of every customer whose choices were lost and tells them.
restored = Signal()
