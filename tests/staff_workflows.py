"""What every app's staff workflows (`<app>.staff_views`) must hold to: each is closed to
whoever lacks its group's permission, to customers and to visitors, and to staff with a
password alone while a second factor is required; a forged POST without the CSRF token is
refused; and none of them changes anything then.

An app's test module subclasses `StaffWorkflowsAreClosed` with its table of workflows,
the ids they need (the fixture `ids`), a customer (the fixture `customer`) and what they
change (`state`)."""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.test import Client

from tests.factories import UserFactory

REVIEWERS, PRIVACY, KLANTENSERVICE, ACCESS = (
    "Offer reviewers",
    "Privacy officers",
    "Klantenservice",
    "Access managers",
)
GROUPS = (REVIEWERS, PRIVACY, KLANTENSERVICE, ACCESS)


@dataclass(frozen=True)
class Workflow:
    name: str  # the URL's name in the app's `staff_views.urls`
    method: str
    path: str  # below /admin/<app>/, with {placeholders} for the ids
    groups: tuple[str, ...]  # the groups whose staff may use it
    data: tuple[tuple[str, str], ...] = ()

    def __str__(self):
        return f"{self.method}-{self.name}"


def staff_in(group):
    user = UserFactory(username=f"staff-{group.split()[0].lower()}", is_staff=True)
    user.groups.set([Group.objects.get(name=group)])
    return user


class StaffWorkflowsAreClosed:
    APP: str  # the app label, as in /admin/<app>/
    WORKFLOWS: tuple[Workflow, ...]
    URLPATTERNS: list  # the app's staff_views.urls.urlpatterns

    def state(self):
        """Everything these workflows change."""
        raise NotImplementedError

    def send(self, client, workflow, ids):
        url = f"/admin/{self.APP}/" + workflow.path.format(**ids)
        data = {name: value.format(**ids) for name, value in workflow.data}
        return getattr(client, workflow.method)(url, data)

    def pytest_generate_tests(self, metafunc):
        if "workflow" in metafunc.fixturenames:
            metafunc.parametrize("workflow", self.WORKFLOWS, ids=str)
        if "post" in metafunc.fixturenames:
            posts = [w for w in self.WORKFLOWS if w.method == "post"]
            metafunc.parametrize("post", posts, ids=str)

    def test_every_workflow_is_in_the_table(self):
        assert {pattern.name for pattern in self.URLPATTERNS} == {w.name for w in self.WORKFLOWS}

    def test_the_groups_staff_get_through(self, client, ids, workflow):
        client.force_login(staff_in(workflow.groups[0]))
        assert self.send(client, workflow, ids).status_code in (200, 302)

    def test_staff_without_the_groups_permission_are_refused(self, client, ids, workflow):
        before = self.state()
        for group in GROUPS:
            if group in workflow.groups:
                continue
            client.force_login(staff_in(group))
            assert self.send(client, workflow, ids).status_code == 403, group
        assert self.state() == before

    def test_customers_and_visitors_go_to_the_staff_login(self, client, ids, customer, workflow):
        before = self.state()
        response = self.send(client, workflow, ids)
        assert response.status_code == 302 and response.url.startswith("/admin/login/")
        client.force_login(customer.user)
        response = self.send(client, workflow, ids)
        assert response.status_code == 302 and response.url.startswith("/admin/login/")
        assert self.state() == before

    def test_the_groups_staff_with_a_password_alone_go_to_the_second_step(
        self, client, ids, settings, workflow
    ):
        settings.STAFF_OTP_REQUIRED = True
        client.force_login(staff_in(workflow.groups[0]))  # a password, no code from a device
        before = self.state()
        response = self.send(client, workflow, ids)
        assert response.status_code == 302 and response.url.startswith("/admin/login/")
        assert self.state() == before

    def test_a_forged_post_without_the_csrf_token_is_refused(self, ids, post):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(staff_in(post.groups[0]))
        before = self.state()
        response = self.send(browser, post, ids)
        assert response.status_code == 403
        assert "<h1>Deze pagina is verlopen</h1>" in response.content.decode()  # 403_csrf.html
        assert self.state() == before
