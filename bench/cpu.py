"""`python -m bench.cpu`: CPU time per request, in-process, under production settings.

Wall-clock figures on a shared machine are noisy; the CPU time one process spends on a
request is not (much). This drives Django's WSGI application (`config.wsgi`, what gunicorn
calls) directly, in one thread, on a database of its own made as the web benchmark makes
its (`consent_cpubench`, 100,000 customers; `--prepare` makes it afresh: before the first
run, and for figures to compare, as histories grow from run to run), as the web
benchmark's simulated customers do: log in, open the dashboard, make a choice
with htmx, sometimes open the history or export. It prints `cpu <request> <ms>` lines:
the median `time.process_time()` per request (the mean and n next to it), PostgreSQL's
own CPU not included. Then the cost of each page against the floor, `/healthz` through
the same middleware in the same run, asked once per visit:

    bench dashboard_cpu_vs_floor N   median CPU of the dashboard / median CPU of /healthz
                                     (target ≤ 2.0)
    bench choice_cpu_vs_floor N      the same for an htmx choice (target ≤ 3.0)
    bench history_cpu_vs_floor N     the history page (target ≤ 2.5)
    bench export_cpu_vs_floor N      the JSON export (target ≤ 4.0)
    bench empty_page_cpu_vs_floor N  the lower bound of the four: a customer's page that
                                     reads no data (`/export/`, the layout, a heading and
                                     a list), logged in, asked once per visit

The last is no target: it is what any page of a logged-in customer costs before it reads
or shows anything of theirs (session, user and customer, the layout, the CSRF token), so
that a page's own share is its ratio minus this one.

Medians, not means: a garbage collection or a pool connection opened inside one request
moves a mean, hardly a median. The targets are printed next to each figure.

Production settings serve static files through the manifest `collectstatic` writes, so
the benchmark runs `collectstatic` first, as `bin/serve` does (a fresh clone has none).

`--profile NAME` profiles only that request with cProfile (sorted by cumulative time) or,
with `--pyinstrument`, with pyinstrument if it is installed.

Never part of `make test`.
"""

import argparse
import io
import os
import random
import secrets
import statistics
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.figures import figure_line, median_ratio
from bench.web import CHOICES, PURPOSES

ROOT = Path(__file__).resolve().parent.parent
# The pages' CPU over the floor's (issue #24): the figure is printed with its target.
CPU_TARGETS = {"dashboard": "≤ 2.0", "choice": "≤ 3.0", "history": "≤ 2.5", "export": "≤ 4.0"}


class WsgiCustomer:
    """One customer's browser, talking straight to the WSGI application."""

    def __init__(self, app, number):
        self.app, self.number = app, number
        self.cookies: dict[str, str] = {}
        self.forms: dict[str, dict[str, str]] = {}

    def request(self, method, path, data=None, headers=None):
        body = urlencode(data or {}).encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8765",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8765",
            "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = response_headers

        response = self.app(environ, start_response)
        try:
            content = b"".join(response)
        finally:
            close = getattr(response, "close", None)
            if close:
                close()  # request_finished: the connection goes back to the pool
        for name, value in answer["headers"]:
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    self.cookies[morsel.key] = morsel.value
        return answer["status"], content.decode()

    def log_in(self, password):
        from bench.web import CSRF_INPUT

        _status, page = self.request("GET", "/accounts/login/")
        token = CSRF_INPUT.search(page).group(1)
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": self.number, "password": password},
        )
        if status != 302:
            raise RuntimeError(f"login failed for {self.number}: {status}")

    def dashboard(self):
        from bench.web import CARD_FORM

        status, page = self.request("GET", "/")
        for purpose, version, notice_sha256 in CARD_FORM.findall(page):
            self.forms[purpose] = {"version": version, "notice_sha256": notice_sha256}
        return status

    def choose(self, purpose, choice):
        return self.request(
            "POST",
            f"/choices/{purpose}/",
            {**self.forms.get(purpose, {}), "choice": choice},
            headers={"X-CSRFToken": self.cookies["csrftoken"], "HX-Request": "true"},
        )[0]


# Its own database (made like the web benchmark's), so that it never drops the one a
# running `bench.web` uses.
DATABASE = "consent_cpubench"


def setup(prepare: bool, clients: int) -> None:
    sys.path.insert(0, str(ROOT))
    from bench import web

    web.DATABASE = DATABASE

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    if "DATABASE_URL" not in os.environ:
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
        from infra.database import embedded_server

        embedded_server()
    env["DATABASE_URL"], env["DATABASE_OWNER_URL"] = web.database_urls()
    if prepare:
        web.prepare(customers=100_000, clients=clients, env=env)
    # The pages name their static files through the manifest, as under bin/serve.
    static_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    static_env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    static_env.pop("DATABASE_OWNER_URL", None)
    web.manage("collectstatic", "--no-input", "-v", "0", env=static_env)
    # From here on: production settings, as bin/serve runs them (without the owner's URL).
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="make the database first")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=600, help="visits measured")
    parser.add_argument("--logins", type=int, default=3, help="logins measured")
    parser.add_argument(
        "--profile",
        choices=["dashboard", "choice", "history", "export", "empty_page", "healthz", "login"],
        help="profile this request only",
    )
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--dump", metavar="FILE", help="with --profile: also save the cProfile")
    args = parser.parse_args(argv)

    setup(args.prepare, args.clients)
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    from bench.web import PASSWORD

    app = get_wsgi_application()
    print(f"bench load_average_start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rng = random.Random(13)
    people = [WsgiCustomer(app, f"{700000 + n}") for n in range(args.clients)]
    spent: dict[str, list[float]] = {}

    def measure(name, call, *a):
        started = time.process_time()
        result = call(*a)
        spent.setdefault(name, []).append(time.process_time() - started)
        return result

    # Logins (PBKDF2) first: the web benchmark does them as set-up, before it measures.
    for n, person in enumerate(people):
        if n < args.logins:
            measure("login", person.log_in, PASSWORD)
        else:
            person.log_in(PASSWORD)

    def visit(person):
        return [
            ("dashboard", person.dashboard),
            ("choice", lambda: person.choose(rng.choice(PURPOSES), rng.choice(CHOICES))),
            ("history", lambda: person.request("GET", "/history/")),
            ("export", lambda: person.request("GET", "/export.json")),
            ("healthz", lambda: person.request("GET", "/healthz")),
            # After the floor, not before it: a request costs less right after a light
            # one (the floor fell by a fifth when this page came just before it).
            ("empty_page", lambda: person.request("GET", "/export/")),
        ]

    # Warm-up: templates compiled, caches filled, pool connections open.
    for person in people[:10]:
        for _name, call in visit(person):
            call()

    profiler = None
    if args.profile:
        if args.pyinstrument:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
        else:
            import cProfile

            # CPU time, not wall time: waiting for PostgreSQL is not what we cut here.
            profiler = cProfile.Profile(time.process_time)
    if args.profile == "login":
        extra = [WsgiCustomer(app, people[n].number) for n in range(args.logins)]
        profiler.enable() if not args.pyinstrument else profiler.start()
        for person in extra:
            measure("login", person.log_in, PASSWORD)
        profiler.disable() if not args.pyinstrument else profiler.stop()

    for n in range(args.rounds):
        person = people[n % len(people)]
        for name, call in visit(person):
            if name in ("history", "export") and rng.random() > (0.3 if name == "history" else 0.1):
                continue
            if profiler is not None and name == args.profile:
                profiler.enable() if not args.pyinstrument else profiler.start()
                measure(name, call)
                profiler.disable() if not args.pyinstrument else profiler.stop()
            else:
                measure(name, call)

    for name, values in spent.items():
        median, mean = statistics.median(values) * 1000, statistics.fmean(values) * 1000
        print(f"cpu {name}_ms {median:.3f}  (median; mean {mean:.3f}, n={len(values)})")
    for name, target in CPU_TARGETS.items():
        if spent.get(name) and spent.get("healthz"):
            ratio = median_ratio(spent[name], spent["healthz"])
            print(figure_line(f"{name}_cpu_vs_floor", ratio, target=target), flush=True)
    if spent.get("empty_page") and spent.get("healthz"):
        ratio = median_ratio(spent["empty_page"], spent["healthz"])
        print(figure_line("empty_page_cpu_vs_floor", ratio), flush=True)
    print(f"bench load_average_end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if profiler is not None:
        if args.pyinstrument:
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        else:
            import pstats

            stats = pstats.Stats(profiler)
            if args.dump:
                stats.dump_stats(args.dump)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
