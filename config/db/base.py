from django.db.backends.postgresql import base
from django.db.backends.postgresql.creation import DatabaseCreation as PostgresCreation

from config.database import as_owner, ensure_embedded_server


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
        if self.settings_dict.get("EMBEDDED"):
            ensure_embedded_server()
        return super().get_connection_params()
