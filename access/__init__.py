"""Third parties: who else may read the customer's payment accounts (issue 26).

A data user (a PSD2 account information service, later a FiDA data user) is registered
by the privacy officer (`DataUser`), asks for access through the API (a Berlin Group
consent resource: `Permission`), the customer approves or refuses it on our site, bound
to the text shown and recorded in the ledger (`access.actions`), and the data user then
reads only through the gate (`access.gate`), every read logged (`Read`).
"""
