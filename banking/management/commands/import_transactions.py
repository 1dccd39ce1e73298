from banking.imports import TransactionImport
from banking.management.commands._importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import transactions: transaction_id,iban,booked_at,amount,currency,"
        "counterparty_name,counterparty_iban,mcc,country,description"
    )

    def make_import(self, **options):
        return TransactionImport()
