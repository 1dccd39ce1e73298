"""The customers' pages are Jinja2 (config/jinja2.py): translated when compiled, one
environment per language, always escaped, one CSRF token per page."""

import re

from django.template import engines
from django.test import RequestFactory
from django.utils import translation


def render(source, language, **context):
    with translation.override(language):
        return engines["jinja2"].from_string(source).render(context)


def test_a_literal_is_translated_when_the_template_is_compiled_for_each_language():
    source = '{{ _("Mijn privacykeuzes") }}'
    assert render(source, "nl") == "Mijn privacykeuzes"
    assert render(source, "en") == "My privacy choices"
    # Compiled in English, it holds the English text as a constant: no call is left.
    with translation.override("en"):
        code = engines["jinja2"].env.compile(source, raw=True)
    assert "My privacy choices" in code and "gettext" not in code


def test_a_text_that_is_not_a_literal_is_translated_when_rendered():
    assert render("{{ _(text) }}", "en", text="Mijn privacykeuzes") == "My privacy choices"


def test_a_translation_is_escaped_and_so_are_the_values_put_into_it():
    html = render('{{ _("Uit sinds %(date)s.") % {"date": when} }}', "nl", when="<b>")
    assert html == "Uit sinds &lt;b&gt;."
    assert render('{{ "<script>" }}', "en") == "&lt;script&gt;"


def test_every_form_of_a_page_carries_the_same_token_and_the_next_page_another():
    request = RequestFactory().get("/")
    template = engines["jinja2"].from_string("{{ csrf_input }}{{ csrf_input }}{{ csrf_token }}")

    def tokens():
        return re.findall(r'value="([^"]+)"', template.render({}, request))

    first, second = tokens(), tokens()
    assert len(first) == 2 and first[0] == first[1]
    assert first[0] != second[0]  # masked anew for each page


def test_a_date_is_shown_in_the_language_and_time_zone_of_the_page():
    import datetime as dt

    from django.utils import timezone

    moment = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)  # 1 January in Amsterdam
    source = '{{ when|date("j F Y, H:i") }}'
    assert render(source, "nl", when=moment) == "1 januari 2027, 00:30"
    assert render(source, "en", when=moment) == "1 January 2027, 00:30"
    with timezone.override("Europe/London"):
        assert render(source, "en", when=moment) == "31 December 2026, 23:30"


def test_the_written_out_formats_print_what_djangos_date_filter_prints():
    import datetime as dt

    from django.template import defaultfilters
    from django.utils import timezone

    # Every month, either side of midnight in Amsterdam and of the changes of summer time,
    # plain days and naive moments too.
    moments = [
        dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)
        for month in range(1, 13)
        for day in (1, 28)
        for hour, minute in ((0, 5), (22, 59), (23, 0), (23, 30))
    ]
    moments += [dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC), dt.datetime(2026, 10, 25, 1, 0)]
    for zone in ("Europe/Amsterdam", "UTC", "America/New_York"):
        with timezone.override(zone):
            for language in ("nl", "en"):
                for value in [*moments, *(moment.date() for moment in moments)]:
                    formats = ["j F Y"] if type(value) is dt.date else ["j F Y", "j F Y, H:i", "c"]
                    with translation.override(language):
                        django_text = [
                            defaultfilters.date(timezone.template_localtime(value), format_string)
                            for format_string in formats
                        ]
                    ours = [
                        render(f'{{{{ when|date("{format_string}") }}}}', language, when=value)
                        for format_string in formats
                    ]
                    assert ours == django_text, (zone, value)
