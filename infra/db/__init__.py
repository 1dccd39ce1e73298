"""The PostgreSQL backend, with two additions (see `infra/database.py`).

- The embedded server is started before the first connection of a process, so importing
  settings never starts a database.
- Test databases are created, migrated and dropped by the owner role; the tests then run
  as the runtime role, with the privileges production has.
"""
