"""What every app uses and no domain: the database roles and partitions as migration
operations (`dbroles`), the embedded PostgreSQL and the credentials of each role
(`database`, `db`), COPY loading with all-or-nothing checks (`csvload`), SQL compiled once
per process (`precompiled`), the one Dutch/English accessor (`languages`), backups
(`backups`), and `migrate` as the owner. It imports no app of the project."""
