"""Reading pages as a browser would: the fields a form on the page would send."""

import re
from html import unescape
from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"action": attrs.get("action"), "fields": {}}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attrs.get("name"):
            self._current["fields"][attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def form_fields(html: str, action: str, **overrides) -> dict:
    """The fields of the first form posting to `action`, as the browser would send them
    (without the CSRF token, which the test client handles), with `overrides` applied."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if form["action"] == action:
            fields = {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"}
            return {**fields, **overrides}
    raise AssertionError(f"no form posting to {action}")


def hidden_fields(html: str) -> dict[str, str]:
    """Every hidden input of the page (a login's `next`, an OAuth consent form's fields),
    as a browser posting its form would send them."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[unescape(name.group(1))] = unescape(value.group(1)) if value else ""
    return fields


def choice_form(client, purpose_code: str, choice: str, *, page: str = "/") -> dict:
    """What the dashboard's form for `purpose_code` sends, with `choice` as the choice."""
    html = client.get(page).content.decode()
    return form_fields(html, f"/choices/{purpose_code}/", choice=choice)


def downloaded_json(response):
    """The JSON of a download, streamed or not, as the browser saves it."""
    import json

    body = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    return json.loads(body)


def card_html(html: str, code: str) -> str:
    """The dashboard's card of purpose `code` (an optional purpose's <article>), as sent."""
    start = html.index(f'id="purpose-{code}"')
    return html[html.rindex("<article", 0, start) : html.index("</article>", start)]
