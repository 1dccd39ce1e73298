"""Processes a test started (servers, workers): stopped the same way by every test."""

import subprocess


def stop_all(processes, *, timeout: float = 20) -> None:
    """SIGTERM to each still running, then wait for each; one that outlives `timeout` is
    killed."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
