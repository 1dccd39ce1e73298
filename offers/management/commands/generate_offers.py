import argparse
import datetime as dt
import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from infra.progress import Progress
from offers import engine, tasks
from offers.models import ChunkStatus
from offers.rules import RULES_BY_CODE
from offers.worker import CONNECTION_ERRORS, Backoff, close_connections, one_line

# How often `--queue` looks at the run while it waits, and after how long without any
# chunk taken it says that no worker seems to be running.
POLL_SECONDS = 1.0
NO_WORKER_HINT_SECONDS = 20
# Watching a run is cheap to resume: after a lost database, look again soon.
WATCH_BACKOFF = Backoff(initial=1.0, maximum=5.0)
BAR_WIDTH = 30


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be a whole number of at least 1")
    return number


def plain(text):
    """Progress on stderr is news, not an error: no red."""
    return text


class Command(BaseCommand):
    help = (
        "Run the offers engine for an as-of date (default today), in this process or, with"
        " --queue, on worker processes (offers_worker). Idempotent per date; a rerun resumes"
        " the date's unfinished run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument(
            "--rule", action="append", choices=sorted(RULES_BY_CODE), help="only this rule"
        )
        parser.add_argument(
            "--chunk-size",
            type=positive,
            default=None,
            help="customers per chunk (default: in this process all at once, one pass over"
            f" transactions; with --queue {settings.OFFERS_CHUNK_SIZE:,})",
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="queue the chunks for `manage.py offers_worker` processes and"
            " show progress until the run ends (Ctrl-C stops watching, not the run)",
        )

    def handle(self, *args, **options):
        now = timezone.now()
        as_of = options["as_of"] or timezone.localdate(now)
        self.on_terminal = self.stderr.isatty()
        try:
            if options["queue"]:
                run = self.on_workers(as_of=as_of, now=now, options=options)
            else:
                run = engine.generate_offers(
                    as_of=as_of,
                    now=now,
                    rule_codes=options["rule"],
                    chunk_size=options["chunk_size"],
                    progress=Progress(self.stderr),
                )
        except engine.RunInProgress as exc:
            raise CommandError(str(exc)) from None
        chunks = run.chunks.count()
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        self.stdout.write(
            f"run {run.pk} as of {run.as_of}: {run.status}"
            f" (expired {run.expired}, retracted {run.retracted}; {chunks} chunks"
            + (f", {took:.1f} s" if took is not None else "")
            + ")"
        )
        for code, counts in run.counts.items():
            self.stdout.write(
                f"  {code}: considered {counts['considered']}, candidates {counts['candidates']},"
                f" offered {counts['offered']}, already offered {counts['already_offered']},"
                f" suppressed by policy {counts['suppressed_by_policy']}"
            )

    def on_workers(self, *, as_of, now, options):
        run, resumed = tasks.start_run(
            as_of=as_of, now=now, rule_codes=options["rule"], chunk_size=options["chunk_size"]
        )
        progress = engine.run_progress(run_id=run.pk)
        verb = "resumed" if resumed else "queued"
        self.stdout.write(
            f"run {run.pk} as of {as_of} {verb}: {progress.total - progress.done} of"
            f" {progress.total} chunks for the workers (offers_worker)"
        )
        reported = {self.key(c) for c in progress.chunks if c.status == ChunkStatus.DONE}
        hint_at: float | None = time.monotonic() + NO_WORKER_HINT_SECONDS
        done_before = progress.done
        lost, rng = 0, random.Random()
        try:
            while True:
                try:
                    run = tasks.look_after(run_id=run.pk, at=timezone.now())
                    progress = engine.run_progress(run_id=run.pk)
                except CONNECTION_ERRORS as exc:
                    # The run is in the database and the workers wait for it too: keep
                    # watching instead of failing a run that goes on.
                    close_connections()
                    lost += 1
                    wait = WATCH_BACKOFF.wait(lost, rng)
                    self.stderr.write(
                        f"\ndatabase unreachable ({one_line(exc)}); run {run.pk} goes on in"
                        f" the workers; looking again in {wait:.1f} s (attempt {lost})",
                        style_func=plain,
                    )
                    time.sleep(wait)
                    continue
                if lost:
                    self.stderr.write(
                        f"database reachable again after {lost} attempts; watching run {run.pk}",
                        style_func=plain,
                    )
                    lost = 0
                reported |= self.show(progress, reported)
                if not progress.run.is_open:
                    break
                if hint_at and time.monotonic() > hint_at:
                    hint_at = None
                    if progress.done == done_before and not progress.running:
                        self.stderr.write(
                            f"\nno worker has taken a chunk in {NO_WORKER_HINT_SECONDS} s: is"
                            " `manage.py offers_worker` running?",
                            style_func=plain,
                        )
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            raise CommandError(
                f"stopped watching; run {run.pk} goes on in the workers (watch it again:"
                f" generate_offers --queue --as-of {as_of})",
                returncode=130,
            ) from None
        if self.on_terminal:
            self.stderr.write("", style_func=plain)
        if progress.run.status != "finished":
            failed = [c for c in progress.chunks if c.status == ChunkStatus.FAILED]
            for chunk in failed:
                self.stderr.write(
                    f"chunk {chunk.number} (customers {chunk.first_customer_id}–"
                    f"{chunk.last_customer_id}) failed after {chunk.attempts} attempts:"
                    f" {chunk.error}"
                )
            raise CommandError(
                f"run {run.pk} as of {as_of} {progress.run.status}: {len(failed)} of"
                f" {progress.total} chunks failed; run the same command again to resume it"
            )
        return progress.run

    @staticmethod
    def key(chunk):
        return chunk.pk, chunk.attempts, chunk.status

    def show(self, progress, reported) -> set:
        """A bar on a terminal; otherwise one line per chunk as it ends (each attempt)."""
        ended = [
            c
            for c in progress.chunks
            if c.status in (ChunkStatus.DONE, ChunkStatus.FAILED) and self.key(c) not in reported
        ]
        if self.on_terminal:
            filled = BAR_WIDTH * progress.done // max(progress.total, 1)
            self.stderr.write(
                f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {progress.done}/{progress.total}"
                f" chunks, {progress.count(ChunkStatus.RUNNING)} running,"
                f" {progress.count(ChunkStatus.FAILED)} failed, {progress.offered} offered",
                style_func=plain,
                ending="",
            )
            self.stderr.flush()
        else:
            for chunk in ended:
                self.stdout.write(
                    f"chunk {chunk.number}/{progress.total} {chunk.status}: customers"
                    f" {chunk.first_customer_id}–{chunk.last_customer_id},"
                    f" {engine.describe_counts(chunk.counts)} (attempt {chunk.attempts},"
                    f" {chunk.worker})"
                )
        return {self.key(c) for c in ended}
