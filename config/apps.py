from django.contrib.admin.apps import AdminConfig


class PanelAdminConfig(AdminConfig):
    """Makes config.admin_site.PanelAdminSite the project's `admin.site`."""

    default_site = "config.admin_site.PanelAdminSite"

    def ready(self):
        super().ready()
        from config.turkish import install

        install()
