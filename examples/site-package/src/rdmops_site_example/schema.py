"""The metadata schema version this package stands for, and how a record carries it.

Standard library only, so the stamping rule can be tested without Invenio.
"""

# The package's version (pyproject.toml reads it from here): bump it whenever the site's
# metadata schema changes, and every record created, edited or versioned afterwards says so.
SCHEMA_VERSION = "1.0.0"

NAMESPACE = "rdmops"
NAMESPACE_URI = "https://example.invalid/rdmops/terms/"
FIELD_NAME = NAMESPACE + ":schema_version"


def stamped(custom_fields, version=SCHEMA_VERSION):
    """Return a copy of a record's ``custom_fields`` carrying ``version``.

    A copy, never the same dict: on `edit` the draft's custom fields are the very dict of the
    published record (the RDM metadata components assign it, they do not copy it), and the
    service reindexes that record afterwards, so changing it in place would show the new
    version on a published record whose stored metadata does not have it.
    """
    fields = dict(custom_fields or {})
    fields[FIELD_NAME] = version
    return fields


def stamp(record, version=SCHEMA_VERSION):
    """Set the schema version on a draft or record (any mapping with `custom_fields`)."""
    record["custom_fields"] = stamped(record.get("custom_fields"), version)
    return record
