from banking.imports import AccountImport
from banking.management.commands._importing import ImportCommand


class Command(ImportCommand):
    help = "Import accounts: iban,customer_number,kind,balance,currency"

    def make_import(self, **options):
        return AccountImport()
