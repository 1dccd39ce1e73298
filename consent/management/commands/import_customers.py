from django.utils import timezone

from consent.imports import CustomerImport

from ._importing import ImportCommand


class Command(ImportCommand):
    help = "Import customers: customer_number,first_name,last_name,email,birth_date,language"

    def make_import(self, **options):
        return CustomerImport(today=timezone.localdate())
