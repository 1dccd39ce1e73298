from consent.management.commands._importing import ImportCommand
from offers.imports import HoldingImport


class Command(ImportCommand):
    help = "Import holdings: customer_number,product_code"

    def make_import(self, **options):
        return HoldingImport()
