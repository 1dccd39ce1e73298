"""A downstream system as the bank's CRM would write it: it follows the feed and keeps, per
customer and purpose, the last word; a consent it holds also stops after its
`valid_until`. The tests compare what it holds with `consent.validity`."""

import datetime as dt

from django.utils import timezone

from consent.validity import valid_consents


class Follower:
    PURPOSES = ("offers_spending", "offers_income", "offers_balance")

    def __init__(self, client, *, cursor=0, page_size=None):
        """`client`: an API client, or a callable that returns one with a fresh token
        (a system asks for a new token when its one-hour token has expired)."""
        self.connect = client if callable(client) else lambda: client
        self.cursor = cursor
        self.page_size = page_size
        self.latest: dict[tuple[str, str], dict] = {}
        self.pages = 0
        self.resnapshots = 0

    def load_snapshot(self, purpose_code):
        response = self.connect().get(f"/api/v1/purposes/{purpose_code}/valid-customers")
        assert response.status_code == 200, response
        body = snapshot(response)
        for row in body["customers"]:
            self.latest[(row["customer_number"], purpose_code)] = {
                "may_use": True,
                "valid_until": row["valid_until"],
            }
        self.cursor = body["cursor"]
        return body

    def catch_up(self):
        client = self.connect()
        while True:
            query = {"after": self.cursor}
            if self.page_size:
                query["limit"] = self.page_size
            response = client.get("/api/v1/consent-changes", query)
            assert response.status_code == 200, response.content
            page = _json(response)
            self.pages += 1
            started_again = False
            for change in page["changes"]:
                assert change["id"] > self.cursor, "the feed went backwards"
                self.cursor = change["id"]
                if change["kind"] == "resnapshot":
                    self.start_again()
                    started_again = True
                    break
                self.latest[(change["customer_number"], change["purpose"])] = change
            if started_again:
                continue
            assert page["next"] == self.cursor
            if not page["has_more"]:
                return self

    def start_again(self):
        """The bank restored an older backup: what was read may be gone. Snapshots again,
        and on from where they stand."""
        self.resnapshots += 1
        self.latest.clear()
        # From the oldest of the snapshots' positions: a change is then read again rather
        # than missed.
        self.cursor = min(self.load_snapshot(code)["cursor"] for code in self.PURPOSES)

    def holds(self, *, at: dt.datetime) -> set[tuple[str, str]]:
        today = timezone.localdate(at).isoformat()
        return {
            pair
            for pair, change in self.latest.items()
            if change["may_use"]
            and (change["valid_until"] is None or today <= change["valid_until"])
        }


def truth(*, at: dt.datetime) -> set[tuple[str, str]]:
    """Who the bank may use for what at `at`, as `consent.validity` says."""
    return set(valid_consents(at=at).values_list("customer__customer_number", "purpose__code"))


def ndjson_lines(response) -> list[dict]:
    """The NDJSON body's objects, one per line."""
    import json

    if hasattr(response, "streaming_content"):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    return [json.loads(line) for line in body.splitlines()]


def snapshot(response) -> dict:
    """A complete snapshot as one object: its first line, with the customers and the count
    of its `end` line (which must be there: without it the stream broke)."""
    first, *customers, end = ndjson_lines(response)
    assert first["type"] == "snapshot" and end == {"type": "end", "customers": len(customers)}
    assert all(line["type"] == "customer" for line in customers)
    return {**first, "customers": customers}


def _json(response):
    if hasattr(response, "streaming_content"):
        import json

        return json.loads(b"".join(response.streaming_content))
    return response.json()
