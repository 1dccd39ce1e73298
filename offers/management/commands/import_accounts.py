from consent.management.commands._importing import ImportCommand
from offers.imports import AccountImport


class Command(ImportCommand):
    help = "Import accounts: iban,customer_number,kind,balance,currency"

    def make_import(self, **options):
        return AccountImport()
