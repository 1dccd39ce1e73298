"""gunicorn for `make serve`: sized for the 2-core machine, overridable from the environment.

Two worker processes (one per core) with 8 threads each: requests spend much of their time
waiting on PostgreSQL, so threads keep both cores busy without a process per request.
Each process has its own database pool (DB_POOL_SIZE, default 8): 2 x 8 = 16 connections,
well under PostgreSQL's max_connections of 100.
"""

import multiprocessing
import os

from config.env import env_int

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = env_int("WEB_WORKERS", default=multiprocessing.cpu_count(), minimum=1)
threads = env_int("WEB_THREADS", default=8, minimum=1)
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = "-"
errorlog = "-"
# Every line, the access log included, is one JSON object from config/logging.py.
logger_class = "config.logging.GunicornLogger"
# No control socket: gunicorn 27 puts it in the user's home, one path for every server of
# that user on the machine, where they overwrite each other's. The server is managed with
# signals (systemd, or Ctrl-C).
control_socket_disable = True
