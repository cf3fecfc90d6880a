"""Service component that stamps records with the site's metadata schema version."""

from invenio_drafts_resources.services.records.components import ServiceComponent

from .schema import stamp


class SchemaVersionComponent(ServiceComponent):
    """Stamps the draft with the current schema version on create, save, edit and new version.

    Publishing stamps the record too, so a draft saved under an older release of this package
    and published under a newer one carries the version of the code that validated it.

    It must run after the RDM CustomFieldsComponent, which replaces `custom_fields` wholesale
    (from the submitted data, or from the published record on edit and new version): append it
    to the end of RDM_RECORDS_SERVICE_COMPONENTS, as `config` does.

    The signatures are those of invenio-drafts-resources' ServiceComponent (7.x, InvenioRDM 13);
    the services call them with keyword arguments only, and `**kwargs` absorbs what a later
    release may add.
    """

    def create(self, identity, data=None, record=None, errors=None, **kwargs):
        """A new draft (`record` is the draft here) gets the current version."""
        stamp(record)

    def update_draft(self, identity, data=None, record=None, errors=None, **kwargs):
        """A saved draft keeps the current version, whatever the client sent."""
        stamp(record)

    def edit(self, identity, draft=None, record=None, **kwargs):
        """Editing a published record moves its draft to the current version."""
        stamp(draft)

    def new_version(self, identity, draft=None, record=None, **kwargs):
        """A new version of an old record carries the current version, not the old one."""
        stamp(draft)

    def publish(self, identity, draft=None, record=None, **kwargs):
        """The published record carries the version of the code that published it."""
        stamp(record)
