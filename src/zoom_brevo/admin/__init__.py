"""The ``/admin`` dashboard and admin JSON API (``admin_routes_for`` mounts them)."""

from zoom_brevo.admin.app import (
    AdminConfig,
    admin_app,
    admin_routes,
    admin_routes_for,
    site_routes_for,
)

__all__ = ["AdminConfig", "admin_app", "admin_routes", "admin_routes_for", "site_routes_for"]
