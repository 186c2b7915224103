"""The two roles, as groups kept in step with the models (a data migration creates them;
post_migrate grants permissions on models that later migrations add).

Marketer: targeting, consent, templates and campaigns; never connector credentials.
Admin: everything, including connectors, users and scheduled tasks.
"""

from __future__ import annotations

MARKETER = "Marketer"
ADMIN = "Admin"

# Apps whose every model a marketer works with, except the models listed as credentials.
MARKETER_APPS = ("contacts", "consent", "messaging", "channels_sms", "channels_whatsapp", "journeys")
# Models (app_label.model) that hold or reveal credentials: admins only.
CREDENTIAL_MODELS = {"providers.provideraccount"}
# Models a marketer may read but not change.
MARKETER_READ_ONLY: set[str] = {"consent.iyscursor", "consent.iysbackfill", "messaging.message"}
# Permissions (app_label.codename) an admin has and a marketer gets only when granted to the user:
# choosing "transactional" skips the subscription and İYS checks.
ADMIN_ONLY_PERMISSIONS = {"messaging.send_transactional"}
# Apps an admin manages besides the marketer's.
ADMIN_APPS = MARKETER_APPS + ("providers", "auth", "django_celery_beat", "axes", "api", "webhooks")


def role_permissions(Permission, role: str):
    perms = Permission.objects.select_related("content_type")
    if role == ADMIN:
        return perms.filter(content_type__app_label__in=ADMIN_APPS)
    chosen = []
    for perm in perms.filter(content_type__app_label__in=MARKETER_APPS):
        key = f"{perm.content_type.app_label}.{perm.content_type.model}"
        if key in CREDENTIAL_MODELS:
            continue
        if key in MARKETER_READ_ONLY and not perm.codename.startswith("view_"):
            continue
        if f"{perm.content_type.app_label}.{perm.codename}" in ADMIN_ONLY_PERMISSIONS:
            continue
        chosen.append(perm.pk)
    return perms.filter(pk__in=chosen)


def sync_role_groups(Group, Permission) -> None:
    """Idempotent: makes both groups exist with exactly their permissions."""
    for role in (MARKETER, ADMIN):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(role_permissions(Permission, role))


def staff_follows_role(user_ids, *, removed: bool) -> None:
    """A user in the Marketer or Admin group may log in to the panel (is_staff); one taken out of
    every role group may not any more, unless a superuser. Users who never had a role keep theirs."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(pk__in=user_ids)
    with_role = users.filter(groups__name__in=(MARKETER, ADMIN)).values("pk")
    users.filter(pk__in=with_role, is_staff=False).update(is_staff=True)
    if removed:
        users.exclude(pk__in=with_role).filter(is_staff=True, is_superuser=False).update(is_staff=False)


def on_groups_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """m2m_changed of User.groups, from either side (user.groups.add / group.user_set.add)."""
    from django.contrib.auth.models import Group

    if action not in ("post_add", "post_remove", "pre_clear", "post_clear"):
        return
    if reverse:  # instance is a group, pk_set its users
        if instance.name not in (MARKETER, ADMIN):
            return
        if action == "pre_clear":
            instance._role_users_cleared = list(instance.user_set.values_list("pk", flat=True))
            return
        user_ids = pk_set if action != "post_clear" else getattr(instance, "_role_users_cleared", [])
    else:  # instance is a user, pk_set its groups
        if action == "pre_clear":
            return
        if action != "post_clear" and not Group.objects.filter(pk__in=pk_set, name__in=(MARKETER, ADMIN)).exists():
            return
        user_ids = [instance.pk]
    staff_follows_role(user_ids, removed=action in ("post_remove", "post_clear"))
