import logging
import os
from argparse import ArgumentParser, ArgumentTypeError

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from offers import tasks
from offers.worker import Backoff, OffersWorker, one_connection


def seconds(value: str) -> float:
    number = float(value)
    if not 0 < number < 3600:
        raise ArgumentTypeError("must be more than 0 and less than 3600 seconds")
    return number


class Command(db_worker.Command):
    help = (
        "Run an offers engine worker: django-tasks-db's db_worker (the same options, the"
        " queue `offers` by default) that waits for the database when it is unreachable,"
        " with back-off, instead of exiting."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name=tasks.QUEUE)
        parser.add_argument(
            "--backoff-initial",
            type=seconds,
            default=1.0,
            help="the longest wait after the first failed attempt to reach the database;"
            " it doubles per attempt (default: %(default)s s)",
        )
        parser.add_argument(
            "--backoff-max",
            type=seconds,
            default=15.0,
            help="the cap of the wait between attempts (default: %(default)s s)",
        )

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        logging.getLogger("offers.worker").setLevel(
            logging.CRITICAL if verbosity == 0 else logging.INFO
        )

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, batch, **options) -> None:
        self.configure_logging(verbosity)
        if options["backoff_max"] < options["backoff_initial"]:
            raise CommandError("--backoff-max must be at least --backoff-initial")
        excluded = exclude_queues.split(",") if exclude_queues else []
        queue_names = queue_name.split(",")
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        one_connection()
        worker = OffersWorker(
            backoff=Backoff(initial=options["backoff_initial"], maximum=options["backoff_max"]),
            after_outage=lambda: tasks.after_outage(at=timezone.now()),
            queue_names=queue_names,
            excluded_queue_names=excluded,
            interval=options["interval"],
            batch=batch,
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only in the child the reloader runs
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
