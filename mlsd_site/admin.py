"""The user admin, limited for admins who are not superusers.

The Admins group holds ``auth.change_user`` (to manage roles: make someone an interviewer),
which with Django's stock ``UserAdmin`` would let an admin tick ``is_superuser`` on their own
account, give anyone any permission, or change a superuser's password. Here a non-superuser:

* never sets ``is_superuser`` (read-only);
* cannot change a superuser at all (the change form and the password form refuse with 403;
  the user stays visible, read-only);
* grants only groups and permissions within their own: a group whose every permission they
  hold, a permission they hold. Memberships outside that scope are kept as they are when the
  form is saved (an admin neither grants nor strips what they do not have);
* cannot change their own account's groups, permissions, staff or active flags.

Superusers keep the stock admin.
"""

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import AbstractBaseUser, Group, Permission, User
from django.db.models import Q, QuerySet
from django.http import HttpRequest

# What an admin may not change on their own account (nor ``is_superuser`` on any).
OWN_ACCOUNT_FIELDS = ("is_active", "is_staff", "groups", "user_permissions")


def permissions_held(user: AbstractBaseUser) -> QuerySet[Permission]:
    """The permissions ``user`` holds directly or through a group."""
    return Permission.objects.filter(Q(group__user=user) | Q(user=user)).distinct()


def groups_within(user: AbstractBaseUser) -> QuerySet[Group]:
    """The groups whose every permission ``user`` holds (so granting one gives nothing more
    than ``user`` has)."""
    beyond = Permission.objects.exclude(pk__in=permissions_held(user).values("pk"))
    return Group.objects.exclude(permissions__in=beyond).order_by("name")


class UserAdmin(auth_admin.UserAdmin):
    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None):
        fields = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        fields.append("is_superuser")
        if obj is not None and obj.pk == request.user.pk:
            fields.extend(OWN_ACCOUNT_FIELDS)
        return fields

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if not request.user.is_superuser:
            if db_field.name == "groups":
                kwargs["queryset"] = groups_within(request.user)
            elif db_field.name == "user_permissions":
                kwargs["queryset"] = permissions_held(request.user).select_related(
                    "content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        user = form.instance
        kept_groups: list[Group] = []
        kept_permissions: list[Permission] = []
        if change and not request.user.is_superuser:
            # The form offers only what the admin holds; saving it would drop the rest.
            kept_groups = list(user.groups.exclude(pk__in=groups_within(request.user)
                                                   .values("pk")))
            kept_permissions = list(user.user_permissions.exclude(
                pk__in=permissions_held(request.user).values("pk")))
        super().save_related(request, form, formsets, change)
        if kept_groups:
            user.groups.add(*kept_groups)
        if kept_permissions:
            user.user_permissions.add(*kept_permissions)


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
