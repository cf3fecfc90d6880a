"""What a site's invenio.cfg takes from this package.

    from rdmops_site_example.config import (
        RDM_NAMESPACES, RDM_CUSTOM_FIELDS, RDM_RECORDS_SERVICE_COMPONENTS, THEME_FOOTER_TEMPLATE)

A site that already sets one of these merges instead, e.g.
``RDM_CUSTOM_FIELDS = [*my_fields, SCHEMA_VERSION_FIELD]``.
"""

from invenio_rdm_records.services.components import DefaultRecordsComponents
from invenio_records_resources.services.custom_fields import KeywordCF

from .components import SchemaVersionComponent
from .schema import FIELD_NAME, NAMESPACE, NAMESPACE_URI

# A namespaced custom field needs its namespace declared, or `custom-fields init` refuses it.
RDM_NAMESPACES = {NAMESPACE: NAMESPACE_URI}

# Keyword: one exact, unanalysed value per record.
# No RDM_CUSTOM_FIELDS_UI entry: the service sets the value, depositors never edit it.
SCHEMA_VERSION_FIELD = KeywordCF(name=FIELD_NAME)
RDM_CUSTOM_FIELDS = [SCHEMA_VERSION_FIELD]

# InvenioRDM's own components first (their order matters), this one last.
RDM_RECORDS_SERVICE_COMPONENTS = [*DefaultRecordsComponents, SchemaVersionComponent]

# The page footer of every UI page (invenio-app-rdm's page.html includes this template).
THEME_FOOTER_TEMPLATE = "rdmops_site_example/footer.html"
