"""The user admin, as a member of the Admins group (staff, not superuser) uses it: through
the admin's own change and password forms, they cannot make anyone a superuser, change a
superuser, grant a group or permission beyond their own, or change their own roles."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from interviews.tests.factories import UserFactory, admin_user, candidate, interviewer
from mlsd_site import roles

pytestmark = pytest.mark.django_db


def change_url(user) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def form_data(user, **changes) -> dict:
    """What the change form posts for ``user`` as stored, with ``changes`` applied."""
    data = {
        "username": user.username, "first_name": user.first_name,
        "last_name": user.last_name, "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "groups": [group.pk for group in user.groups.all()],
        "user_permissions": [perm.pk for perm in user.user_permissions.all()],
        "_save": "Save",
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    data.update(changes)
    return data


def perm(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def admin_client(client):
    admin = admin_user(username="ada")
    client.force_login(admin)
    return client, admin


def test_an_admin_cannot_make_themselves_superuser_nor_change_their_own_roles(admin_client):
    client, admin = admin_client
    form = client.get(change_url(admin)).content.decode()
    assert 'name="is_superuser"' not in form and 'name="groups"' not in form
    extra = Group.objects.create(name="Auditors")
    extra.permissions.add(perm("auth", "delete_user"))
    response = client.post(change_url(admin), form_data(
        admin, is_superuser="on", groups=[extra.pk, *admin.groups.values_list("pk", flat=True)],
        user_permissions=[perm("auth", "add_user").pk], first_name="Ada"))
    assert response.status_code == 302  # the rest of the form saves
    admin.refresh_from_db()
    assert admin.first_name == "Ada"
    assert not admin.is_superuser and admin.is_staff
    assert list(admin.groups.values_list("name", flat=True)) == [roles.ADMINS]
    assert not admin.user_permissions.exists()


def test_an_admin_cannot_make_someone_else_superuser(admin_client):
    client, _ = admin_client
    other = candidate()
    assert 'name="is_superuser"' not in client.get(change_url(other)).content.decode()
    client.post(change_url(other), form_data(other, is_superuser="on", is_staff="on"))
    other.refresh_from_db()
    assert not other.is_superuser


def test_an_admin_cannot_change_a_superuser_or_their_password(admin_client):
    client, _ = admin_client
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    root.refresh_from_db()
    page = client.get(change_url(root))
    assert page.status_code == 200 and 'name="username"' not in page.content.decode()
    assert client.post(change_url(root), form_data(root, is_staff="")).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[root.pk])
    assert client.get(password_url).status_code == 403
    response = client.post(password_url, {"password1": "taken-over-1234",
                                          "password2": "taken-over-1234",
                                          "usable_password": "true"})
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_staff and root.check_password("correct-horse-battery")


def test_an_admin_grants_only_groups_and_permissions_within_their_own(admin_client):
    client, _ = admin_client
    roles.roles_ensure()
    user = candidate()
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(perm("auth", "delete_user"))
    form = client.get(change_url(user)).content.decode()
    assert "Interviewers" in form and "Auditors" not in form
    # Beyond their own: refused by the form, nothing saved.
    for changes in ({"groups": [auditors.pk]},
                    {"user_permissions": [perm("auth", "delete_user").pk]}):
        response = client.post(change_url(user), form_data(user, **changes))
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not user.groups.exists() and not user.user_permissions.exists()
    # Within their own: saved.
    interviewers = Group.objects.get(name=roles.INTERVIEWERS)
    response = client.post(change_url(user), form_data(
        user, groups=[interviewers.pk], user_permissions=[perm("auth", "view_user").pk]))
    assert response.status_code == 302
    assert list(user.groups.all()) == [interviewers]
    assert list(user.user_permissions.all()) == [perm("auth", "view_user")]


def test_saving_keeps_the_memberships_an_admin_could_not_grant(admin_client):
    client, _ = admin_client
    user = interviewer()
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(perm("auth", "delete_user"))
    user.groups.add(auditors)
    user.user_permissions.add(perm("auth", "delete_user"))
    # The form offers neither, so it posts without them; the admin removes Interviewers.
    response = client.post(change_url(user), form_data(user, groups=[], user_permissions=[]))
    assert response.status_code == 302
    assert list(user.groups.all()) == [auditors]
    assert list(user.user_permissions.all()) == [perm("auth", "delete_user")]


def test_a_superuser_keeps_the_stock_user_admin(client):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    user = candidate()
    auditors = Group.objects.create(name="Auditors")
    response = client.post(change_url(user), form_data(
        user, is_superuser="on", is_staff="on", groups=[auditors.pk]))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_superuser and list(user.groups.all()) == [auditors]
