"""The PostgreSQL backend, with three additions (see `infra/database.py`).

- The embedded server is started before the first connection of a process, so importing
  settings never starts a database.
- On the embedded server, a connection signs in with the password of its role, read from
  that role's file when connecting (never kept in the settings).
- Test databases are created, migrated and dropped by the owner role; the tests then run
  as the runtime role, with the privileges production has.
"""

from django.db.backends.postgresql import base
from django.db.backends.postgresql.creation import DatabaseCreation as PostgresCreation

from infra.database import as_owner, embedded_password, ensure_embedded_server


class DatabaseCreation(PostgresCreation):
    def create_test_db(self, *args, **kwargs):
        with as_owner(self.connection):
            return super().create_test_db(*args, **kwargs)

    def destroy_test_db(self, *args, **kwargs):
        with as_owner(self.connection):
            return super().destroy_test_db(*args, **kwargs)


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def get_connection_params(self):
        params = super().get_connection_params()
        if self.settings_dict.get("EMBEDDED"):
            ensure_embedded_server()
            if not params.get("password"):
                params["password"] = embedded_password(params["user"])
        return params
