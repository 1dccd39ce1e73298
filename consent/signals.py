"""What consent tells the apps built on it, each inside the transaction that records it.

Receivers connect in their own `AppConfig.ready` (consent never imports them) and return
the `infra.effects.Effect`s of what they did (or None). A receiver that raises rolls the
whole choice back: the customer is told it was not saved.

- `consent_ended(customer_id, purpose_code, event, at)`: a withdrawal; e.g. offers
  retracts the open offers that relied on the consent.
- `objected(customer_id, event, at)`: an objection to direct marketing ("stop all
  personal offers"), after the withdrawals it made; e.g. offers cancels the calls the
  contact centre still had to make.
- `material_change(purpose_code, version, at)`: a material new version takes effect;
  earlier consents stop counting.
- `material_change_preview(purpose_code, at)`: what a material version *would* end
  (reads only), for the privacy officer's second confirmation.
- `event_recorded(event, at)`: every event the ledger records, after the state: an app
  that mirrors the ledger (the API's change feed) commits or rolls back with it.
- `export_sections(customer, language)`: the sections an app adds to `/export.json`, as
  `[(name, iterable), …]` (streamed item by item; `consent.export`); `language` is None
  for the JSON (machine formats) and the page's language for `/export/read/` (then add
  names next to codes).
- `staff_sections(customer, at, language)`: the parts an app adds to the contact centre's
  customer page, as `[consent.staff.StaffSection, …]`; never banking data.
- `history_entries(customer, language)`: lines an app adds to the customer's history
  (`/history/`) that are not ledger events, as `[consent.dashboard.HistoryEntry, …]` in
  `language`; e.g. the API's apps given access and access revoked.
"""

from django.dispatch import Signal

consent_ended = Signal()
objected = Signal()
material_change = Signal()
material_change_preview = Signal()
event_recorded = Signal()
export_sections = Signal()
staff_sections = Signal()
history_entries = Signal()
