"""A real HTTP receiver for webhooks on 127.0.0.1 (a thread), and an approved endpoint
registered as two privacy officers would."""

import http.server
import threading
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.utils import timezone

from api.webhooks import approve_endpoint, register_endpoint
from tests.factories import UserFactory


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers every POST with `status`; while `hold` is clear, waits for it first."""

    status: int = 200
    received: list[Received] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def __post_init__(self):
        self.hold.set()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrived.set()
                receiver.hold.wait(timeout=30)
                receiver.received.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/consent"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


def privacy_officer(username):
    user = UserFactory(username=username, is_staff=True)
    user.groups.set([Group.objects.get(name="Privacy officers")])
    return user


def approved_endpoint(application, url):
    """(endpoint, secret): registered by one privacy officer, approved by another."""
    registered = register_endpoint(
        application_id=application.pk,
        url=url,
        by=privacy_officer("petra"),
        at=timezone.now(),
    )
    approve_endpoint(
        endpoint_id=registered.endpoint.pk, by=privacy_officer("pieter"), at=timezone.now()
    )
    registered.endpoint.refresh_from_db()
    return registered.endpoint, registered.secret
