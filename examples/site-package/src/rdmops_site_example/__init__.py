"""Worked example of an InvenioRDM site package (rdmops.invenio).

Importing the package itself needs only the standard library; `config`, `components` and
`views` import Invenio and are loaded by invenio.cfg and the application factory.
"""

from .schema import FIELD_NAME, SCHEMA_VERSION

__version__ = SCHEMA_VERSION
__all__ = ("FIELD_NAME", "SCHEMA_VERSION", "__version__")
