"""Blueprint that makes the package's templates and the schema version known to the UI."""

from flask import Blueprint

from .schema import SCHEMA_VERSION


def create_blueprint(app):
    """Blueprint without routes: a template folder and a template variable.

    Registered through the `invenio_base.blueprints` entry point (the UI application only).
    Its templates live under their own prefix, `rdmops_site_example/`, and are chosen by name
    in the configuration (THEME_FOOTER_TEMPLATE): shadowing a template of the same name would
    depend on the order blueprints are registered, which follows the order entry points are
    discovered on disk.
    """
    blueprint = Blueprint("rdmops_site_example", __name__, template_folder="templates")

    @blueprint.app_context_processor
    def schema_version():
        return {"rdmops_schema_version": SCHEMA_VERSION}

    return blueprint
