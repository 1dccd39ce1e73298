"""Listening to, or silencing, one of the project's signals for the length of a test."""

from contextlib import contextmanager

from django.dispatch import Signal


@contextmanager
def receiving(signal: Signal, receiver):
    """`receiver` is connected (after the apps' own receivers) until the block ends."""
    signal.connect(receiver, weak=False)
    try:
        yield receiver
    finally:
        signal.disconnect(receiver)


@contextmanager
def silenced(signal: Signal, receiver):
    """One app's receiver is not called until the block ends, as before that app existed."""
    assert signal.disconnect(receiver), f"{receiver.__qualname__} was not connected"
    try:
        yield
    finally:
        signal.connect(receiver)
