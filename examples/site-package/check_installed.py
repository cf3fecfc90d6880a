"""Check the installed example against the real InvenioRDM it is installed beside.

Run with the release venv's python, no services needed:

    <venv>/bin/python check_installed.py [STATIC_DIR]

It builds the UI application with an instance whose invenio.cfg holds the lines the README
gives, then checks that the component is the last of the RDM records service's components,
that every hook it defines accepts exactly what the services pass (read from the services'
own source), that it stamps real RDMDraft/RDMRecord objects after InvenioRDM's
CustomFieldsComponent without touching the published record, and that the blueprint is
registered and the footer renders the schema version; given the static folder of an instance
whose assets were built (it holds dist/manifest.json), it also renders InvenioRDM's page
template with the footer in it. Prints one line per check; exits 1 on
the first failure.
"""
import ast
import inspect
import os
import sys
import tempfile
import textwrap

INVENIO_CFG = textwrap.dedent("""\
    from rdmops_site_example.config import (
        RDM_NAMESPACES, RDM_CUSTOM_FIELDS, RDM_RECORDS_SERVICE_COMPONENTS, THEME_FOOTER_TEMPLATE)
    SECRET_KEY = "check-only"
    """)
HOOKS = ("create", "update_draft", "edit", "new_version", "publish")


def ok(message):
    print("ok:", message)


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def service_calls(service_cls):
    """{action: set of keyword names} of every run_components call in the service's classes."""
    calls = {}
    for cls in service_cls.__mro__:
        if not cls.__module__.startswith("invenio_"):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "run_components" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                keywords = {keyword.arg for keyword in node.keywords if keyword.arg != "uow"}
                where = "%s.%s" % (cls.__module__.split(".")[0], cls.__qualname__)
                calls.setdefault(node.args[0].value, []).append((where, len(node.args) - 1, keywords))
    return calls


def main():
    instance = tempfile.mkdtemp(prefix="rdmops-site-check-")
    with open(os.path.join(instance, "invenio.cfg"), "w", encoding="utf-8") as handle:
        handle.write(INVENIO_CFG)
    os.environ["INVENIO_INSTANCE_PATH"] = instance
    static = sys.argv[1] if len(sys.argv) > 1 else None
    if static:
        os.environ["INVENIO_STATIC_FOLDER"] = static

    from importlib.metadata import version

    from flask import render_template
    from invenio_app.factory import create_ui
    from invenio_drafts_resources.services.records.components import ServiceComponent
    from invenio_rdm_records.proxies import current_rdm_records_service
    from invenio_rdm_records.records.api import RDMDraft, RDMRecord
    from invenio_rdm_records.services.components import CustomFieldsComponent, DefaultRecordsComponents

    import rdmops_site_example
    from rdmops_site_example.components import SchemaVersionComponent
    from rdmops_site_example.schema import FIELD_NAME, SCHEMA_VERSION

    print("invenio-app-rdm %s, invenio-rdm-records %s, invenio-drafts-resources %s, rdmops-site-example %s" % (
        version("invenio-app-rdm"), version("invenio-rdm-records"), version("invenio-drafts-resources"),
        version("rdmops-site-example")))
    if rdmops_site_example.__version__ != version("rdmops-site-example"):
        fail("SCHEMA_VERSION %s is not the installed version" % rdmops_site_example.__version__)
    ok("SCHEMA_VERSION %s is the distribution's version" % SCHEMA_VERSION)

    app = create_ui()
    with app.app_context():
        configured = app.config["RDM_RECORDS_SERVICE_COMPONENTS"]
        if configured != [*DefaultRecordsComponents, SchemaVersionComponent]:
            fail("RDM_RECORDS_SERVICE_COMPONENTS is %r" % configured)
        service = current_rdm_records_service._get_current_object()
        components = list(service.components)
        if not isinstance(components[-1], SchemaVersionComponent):
            fail("the records service's last component is %r" % components[-1])
        ok("the records service runs %d components, SchemaVersionComponent last, after %s" % (
            len(components), ", ".join(type(component).__name__ for component in components[:2])))
        names = [field.name for field in app.config["RDM_CUSTOM_FIELDS"]]
        if names != [FIELD_NAME] or FIELD_NAME.split(":")[0] not in app.config["RDM_NAMESPACES"]:
            fail("custom fields %r, namespaces %r" % (names, app.config["RDM_NAMESPACES"]))
        ok("RDM_CUSTOM_FIELDS has %s (%s), its namespace is declared" % (
            FIELD_NAME, type(app.config["RDM_CUSTOM_FIELDS"][0]).__name__))

        # Signatures: ours against the base class, and against every call the services make.
        calls = service_calls(type(service))
        for hook in HOOKS:
            ours = inspect.signature(getattr(SchemaVersionComponent, hook))
            base = inspect.signature(getattr(ServiceComponent, hook))
            named = [name for name, parameter in ours.parameters.items() if parameter.kind != parameter.VAR_KEYWORD]
            base_named = [name for name, parameter in base.parameters.items() if parameter.kind != parameter.VAR_KEYWORD]
            # Where the base class names the arguments, ours names the same; where it takes only
            # **kwargs (records-resources' create), the services' calls below decide.
            if base_named != ["self", "identity"] and named != base_named:
                fail("%s%s differs from the base class's %s%s" % (hook, ours, hook, base))
            if hook not in calls:
                fail("no service calls run_components(%r)" % hook)
            for where, positional, keywords in calls[hook]:
                try:
                    ours.bind(None, *(["identity"] * positional), **dict.fromkeys(keywords))
                except TypeError as error:
                    fail("%s's call of %s(%s) does not bind: %s" % (where, hook, ", ".join(sorted(keywords)), error))
                # A name no call passes would silently stay None (a draft taken for a record).
                unpassed = set(named[2:]) - keywords
                if unpassed:
                    fail("%s's call of %s does not pass %s" % (where, hook, ", ".join(sorted(unpassed))))
            ok("%s%s: base %s%s; %s" % (hook, ours, hook, base, "; ".join(
                "%s passes %s" % (where, ", ".join(sorted(keywords))) for where, _, keywords in calls[hook])))

        # Real record classes, in memory: InvenioRDM's CustomFieldsComponent first, then ours.
        theirs, mine = CustomFieldsComponent(service), SchemaVersionComponent(service)
        draft = RDMDraft({})
        for component in (theirs, mine):
            component.create(None, data={"custom_fields": {FIELD_NAME: "forged"}}, record=draft, errors=[])
        if draft.custom_fields != {FIELD_NAME: SCHEMA_VERSION}:
            fail("create left %r" % draft.custom_fields)
        published = RDMRecord({"custom_fields": {FIELD_NAME: "0.9.0"}})
        edited = RDMDraft({})
        for component in (theirs, mine):
            component.edit(None, draft=edited, record=published)
        newer = RDMDraft({})
        for component in (theirs, mine):
            component.new_version(None, draft=newer, record=published)
        if (edited.custom_fields[FIELD_NAME], newer.custom_fields[FIELD_NAME]) != (SCHEMA_VERSION, SCHEMA_VERSION):
            fail("edit left %r, new_version left %r" % (edited.custom_fields, newer.custom_fields))
        if published.custom_fields != {FIELD_NAME: "0.9.0"}:
            fail("the published record was changed in memory: %r" % published.custom_fields)
        record = RDMRecord({})
        for component in (theirs, mine):
            component.publish(None, draft=RDMDraft({"custom_fields": {FIELD_NAME: "0.9.0"}}), record=record)
        if record.custom_fields[FIELD_NAME] != SCHEMA_VERSION:
            fail("publish left %r" % record.custom_fields)
        ok("real RDMDraft/RDMRecord objects: create, edit, new_version and publish stamp %s; "
           "the published record stays at 0.9.0" % SCHEMA_VERSION)

    if "rdmops_site_example" not in app.blueprints:
        fail("blueprint not registered: %s" % sorted(app.blueprints))
    ok("blueprint rdmops_site_example registered (%d blueprints in the UI app)" % len(app.blueprints))
    # Banners are read from the database, which this check does not have: show none.
    app.jinja_env.globals["get_active_banners"] = list
    with app.test_request_context("/"):
        footer = render_template(app.config["THEME_FOOTER_TEMPLATE"])
        page = render_template("invenio_app_rdm/page.html") if static else None
    if "Schema version %s" % SCHEMA_VERSION not in footer or "About InvenioRDM" not in footer:
        fail("the footer lacks the schema version or InvenioRDM's own footer")
    ok("%s renders 'Schema version %s' beside InvenioRDM's footer" % (app.config["THEME_FOOTER_TEMPLATE"], SCHEMA_VERSION))
    if page is None:
        print("skipped: invenio_app_rdm/page.html (give a built static folder to render it)")
    elif "Schema version %s" % SCHEMA_VERSION not in page:
        fail("invenio_app_rdm/page.html does not show the schema version")
    else:
        ok("invenio_app_rdm/page.html, with the assets of %s, shows 'Schema version %s'" % (static, SCHEMA_VERSION))


if __name__ == "__main__":
    main()
