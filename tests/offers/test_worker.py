"""The worker's back-off (offers/worker.py). Its behaviour in an outage, on real processes
and a real database server stopped and started, is in test_workers.py."""

import random

from offers.worker import Backoff


def test_the_wait_doubles_per_attempt_up_to_its_cap_drawn_from_the_upper_half():
    backoff = Backoff(initial=1.0, maximum=15.0)
    rng = random.Random(7)
    for attempt, ceiling in ((1, 1), (2, 2), (3, 4), (4, 8), (5, 15), (6, 15), (1000, 15)):
        waits = [backoff.wait(attempt, rng) for _ in range(500)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        # Jitter: workers that lost the database together do not come back together.
        assert max(waits) - min(waits) > ceiling / 4
