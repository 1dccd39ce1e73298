from banking.imports import HoldingImport
from banking.management.commands._importing import ImportCommand


class Command(ImportCommand):
    help = "Import holdings: customer_number,product_code"

    def make_import(self, **options):
        return HoldingImport()
