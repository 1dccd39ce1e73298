from django.utils import timezone

from banking.customer_imports import CustomerImport

from ._importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import customers: customer_number,first_name,last_name,email,birth_date,language,"
        " optionally followed by closed_on (the day the customer left) and phone"
    )

    def make_import(self, **options):
        return CustomerImport(today=timezone.localdate(), now=timezone.now())
