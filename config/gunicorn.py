"""gunicorn for `make serve`: sized for the 2-core machine, overridable from the environment.

Two worker processes (one per core) with 8 threads each: requests spend much of their time
waiting on PostgreSQL, so threads keep both cores busy without a process per request.
Each process has its own database pool (DB_POOL_SIZE, default 8): 2 x 8 = 16 connections,
well under PostgreSQL's max_connections of 100.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("WEB_THREADS", 8))
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"at": "%(t)s", "logger": "access", "method": "%(m)s", "path": "%(U)s", '
    '"status_code": %(s)s, "duration_ms": %(M)s}'
)
