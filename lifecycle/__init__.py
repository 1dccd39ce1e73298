"""The end of what the bank keeps: a customer leaving (`leaving`), erasure on request
(`erasure`, with its page) and retention, removing each kind of data when its period runs
out (`retention`; the periods themselves are consent's notices, `consent.retention_rules`).
It may import `consent`, `ledger` and `infra`; the apps that hold data (banking, offers,
the API) listen to `lifecycle.signals` and say what they keep and what they removed."""
