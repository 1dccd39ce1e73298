"""What the end of a relationship tells the apps that hold a customer's data, inside the
transaction that records it. Receivers connect in their own `AppConfig.ready` and return
the `infra.effects.Effect`s of what they did (or None); one that raises rolls it back.

- `customer_closed(customer_id, at)`: the customer left (after every consent was
  withdrawn): offers retracts what is still open, the API revokes the customer's tokens.
- `erasure_requested(customer_id, event, at)`: erasure on request (GDPR Art. 17), with the
  `erasure_requested` event: each app erases what consent-based processing produced.
- `erasure_preview(customer_id)`: what each app *would* erase (reads only).
- `proof_removed(customer_id, at)`: retention removed the customer's whole consent chain
  (a tombstone stands for it): apps that copied the ledger remove their copies.
- `kept_data()`: each app names the kinds of data it keeps and removes when their period
  runs out, as `[KeptData, …]` (`lifecycle.retention`).
"""

from django.dispatch import Signal

customer_closed = Signal()
erasure_requested = Signal()
erasure_preview = Signal()
proof_removed = Signal()
kept_data = Signal()
