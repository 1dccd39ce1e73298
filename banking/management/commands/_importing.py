"""The shared shape of every `import_*` command: run an import, print every bad row."""

from django.core.management.base import BaseCommand, CommandError

from infra.csvload import ImportFailed


class ImportCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("file", help="UTF-8 CSV file with a header row")

    def make_import(self, **options):
        raise NotImplementedError

    def handle(self, *args, **options):
        try:
            counts = self.make_import(**options).run(
                options["file"], progress_stream=self.stderr._out
            )
        except FileNotFoundError:
            raise CommandError(f"no such file: {options['file']}") from None
        except ImportFailed as failed:
            for error in failed.errors:
                self.stderr.write(f"{options['file']}: {error}")
            raise CommandError(str(failed)) from None
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in counts.items()))
