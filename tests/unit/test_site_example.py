"""The worked example site package (examples/site-package) stamps records with its schema version.

These tests need no Invenio: the stamping rule is standard library, the component is loaded
against a stand-in for its Invenio base class, and the footer is rendered with Jinja (which
ansible-core brings) against a stand-in for InvenioRDM's footer. The real classes are checked
in a venv of the hash lock (examples/site-package/README.md).
"""
import importlib
import pathlib
import sys
import tomllib
import types

import jinja2
import pytest

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[2] / "examples" / "site-package"
SOURCE = PACKAGE_ROOT / "src"
FIELD = "rdmops:schema_version"


class FakeServiceComponent:
    """Stand-in for invenio-drafts-resources' ServiceComponent: a component knows its service."""

    def __init__(self, service):
        self.service = service


@pytest.fixture
def site(monkeypatch):
    """The package imported from the checkout, with the Invenio modules it imports faked."""
    monkeypatch.syspath_prepend(str(SOURCE))
    fakes = {
        "invenio_drafts_resources": {},
        "invenio_drafts_resources.services": {},
        "invenio_drafts_resources.services.records": {},
        "invenio_drafts_resources.services.records.components": {"ServiceComponent": FakeServiceComponent},
        "invenio_rdm_records": {},
        "invenio_rdm_records.services": {},
        "invenio_rdm_records.services.components": {"DefaultRecordsComponents": ["Metadata", "CustomFields", "Access"]},
        "invenio_records_resources": {},
        "invenio_records_resources.services": {},
        "invenio_records_resources.services.custom_fields": {"KeywordCF": lambda name: ("KeywordCF", name)},
    }
    for name, attributes in fakes.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, module)
    for name in [name for name in sys.modules if name.split(".")[0] == "rdmops_site_example"]:
        monkeypatch.delitem(sys.modules, name)
    package = importlib.import_module("rdmops_site_example")
    yield types.SimpleNamespace(
        package=package,
        schema=importlib.import_module("rdmops_site_example.schema"),
        components=importlib.import_module("rdmops_site_example.components"),
        config=importlib.import_module("rdmops_site_example.config"),
    )
    for name in [name for name in sys.modules if name.split(".")[0] == "rdmops_site_example"]:
        del sys.modules[name]


def test_schema_version_is_the_package_version(site):
    project = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "rdmops_site_example.schema.SCHEMA_VERSION"}
    assert site.schema.SCHEMA_VERSION == site.package.__version__ == "1.0.0"
    assert site.schema.FIELD_NAME == FIELD


def test_a_new_draft_is_stamped_and_keeps_its_other_custom_fields(site):
    component = site.components.SchemaVersionComponent(service=None)
    draft = {"custom_fields": {"rdmops:other": "kept"}}
    component.create(None, data={}, record=draft, errors=[])
    assert draft["custom_fields"] == {"rdmops:other": "kept", FIELD: "1.0.0"}

    empty = {}
    component.create(None, data={}, record=empty, errors=[])
    assert empty == {"custom_fields": {FIELD: "1.0.0"}}


def test_a_saved_draft_gets_the_current_version_whatever_the_client_sent(site):
    component = site.components.SchemaVersionComponent(service=None)
    draft = {"custom_fields": {FIELD: "0.0.1-forged"}}
    component.update_draft(None, data={"custom_fields": {FIELD: "0.0.1-forged"}}, record=draft, errors=[])
    assert draft["custom_fields"][FIELD] == "1.0.0"


def test_a_new_version_of_an_old_record_carries_the_current_version(site):
    component = site.components.SchemaVersionComponent(service=None)
    old = {"custom_fields": {FIELD: "0.9.0"}}
    # What InvenioRDM's CustomFieldsComponent does first on new_version: a shallow copy.
    draft = {"custom_fields": dict(old["custom_fields"])}
    component.new_version(None, draft=draft, record=old)
    assert draft["custom_fields"][FIELD] == "1.0.0"
    assert old["custom_fields"][FIELD] == "0.9.0"


def test_editing_never_changes_the_published_record_in_memory(site):
    """On edit the draft's custom_fields is the published record's own dict, and the service
    reindexes that record afterwards: stamping in place would index a version it does not have."""
    component = site.components.SchemaVersionComponent(service=None)
    published = {"custom_fields": {FIELD: "0.9.0"}}
    draft = {"custom_fields": published["custom_fields"]}
    component.edit(None, draft=draft, record=published)
    assert draft["custom_fields"][FIELD] == "1.0.0"
    assert published["custom_fields"] == {FIELD: "0.9.0"}


def test_publishing_stamps_the_record_not_the_draft(site):
    component = site.components.SchemaVersionComponent(service=None)
    draft = {"custom_fields": {FIELD: "0.9.0"}}
    record = {"custom_fields": draft["custom_fields"]}
    component.publish(None, draft=draft, record=record)
    assert record["custom_fields"][FIELD] == "1.0.0"
    assert draft["custom_fields"][FIELD] == "0.9.0"


def test_config_appends_the_component_after_the_rdm_defaults(site):
    config = site.config
    assert config.RDM_RECORDS_SERVICE_COMPONENTS == ["Metadata", "CustomFields", "Access",
                                                     site.components.SchemaVersionComponent]
    assert config.RDM_CUSTOM_FIELDS == [("KeywordCF", FIELD)]
    assert set(config.RDM_NAMESPACES) == {FIELD.split(":")[0]}
    assert config.THEME_FOOTER_TEMPLATE == "rdmops_site_example/footer.html"


def test_the_footer_template_is_shipped_and_entry_point_resolves(site):
    project = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text())
    target = project["project"]["entry-points"]["invenio_base.blueprints"]["rdmops_site_example"]
    module, _, attribute = target.partition(":")
    assert (SOURCE / (module.replace(".", "/") + ".py")).read_text().count("def %s(" % attribute) == 1
    shipped = project["tool"]["setuptools"]["package-data"]["rdmops_site_example"]
    template = SOURCE / "rdmops_site_example" / "templates" / site.config.THEME_FOOTER_TEMPLATE
    assert any(template.match(str(SOURCE / "rdmops_site_example" / pattern)) for pattern in shipped)


def test_the_footer_shows_the_schema_version_beside_invenio_rdm_footer(site):
    """Rendered against a stand-in with the blocks of invenio-app-rdm 13's footer.html."""
    environment = jinja2.Environment(loader=jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(str(SOURCE / "rdmops_site_example" / "templates")),
        jinja2.DictLoader({"invenio_app_rdm/footer.html":
                           "{% block footer_top %}<div>{% block footer_top_left %}links{% endblock footer_top_left %}"
                           "<div>{% block footer_top_right %}upstream{% endblock footer_top_right %}</div>"
                           "</div>{% endblock footer_top %}"}),
    ]))
    html = environment.get_template(site.config.THEME_FOOTER_TEMPLATE).render(rdmops_schema_version="1.0.0")
    assert "links" in html and "upstream" in html
    assert "Schema version 1.0.0" in html
