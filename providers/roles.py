"""The two roles, as groups kept in step with the models (a data migration creates them;
post_migrate grants permissions on models that later migrations add).

Marketer: targeting, consent, templates and campaigns; never connector credentials.
Admin: everything, including connectors, users and scheduled tasks.
"""

from __future__ import annotations

MARKETER = "Marketer"
ADMIN = "Admin"

# Apps whose every model a marketer works with, except the models listed as credentials.
MARKETER_APPS = ("contacts", "consent", "messaging", "channels_sms", "channels_whatsapp")
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
