import pytest

from tests.upgrades.databases import scratch_database


@pytest.fixture
def scratch(request, django_db_setup):
    """An empty database of the test's own on the test server (the roles exist once the
    test database is set up), dropped afterwards."""
    with scratch_database(request.node.name[:30].lower()) as database:
        yield database
