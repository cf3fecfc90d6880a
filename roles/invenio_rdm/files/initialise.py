#!/usr/bin/env python3
# Installed by the rdmops.invenio.invenio_rdm role; changes here are overwritten.
"""Initialise this InvenioRDM instance; every step runs only while its result is missing.

Runs as the service user through `invenio-rdm --credential CREDENTIAL --exec`, whose PATH starts
with the instance's virtualenv (so python3 and invenio are the instance's own). The role passes
the settings as arguments; the administrator's password is read from the credential only.
Prints one "changed: <step>" line per step it performed, so a second run prints none.
The sequence follows the one invenio-cli uses for a new instance.
"""

import argparse
import os
import subprocess
import sys

# The invenio CLI of the virtualenv this script runs in.
INVENIO = os.path.join(os.path.dirname(sys.executable), "invenio")
ADMIN_ROLES = ("admin", "administration", "administration-moderation")


def settings(argv=None):
    parser = argparse.ArgumentParser(description="Initialise this InvenioRDM instance.")
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--admin-password-credential", required=True,
                        help="name of the credential in $CREDENTIALS_DIRECTORY holding the password")
    parser.add_argument("--files-path", required=True, help="the default files location")
    parser.add_argument("--index-prefix", required=True, help="SEARCH_INDEX_PREFIX of the instance")
    parser.add_argument("--demo-data", choices=("yes", "no"), default="no", help="also load InvenioRDM's demo records")
    return parser.parse_args(argv)


def invenio(*args, stdin=None):
    """Run one invenio CLI command; stop on its failure."""
    subprocess.run([INVENIO, *args], input=stdin, text=True, check=True, stdout=sys.stderr)


def changed(step):
    print(f"changed: {step}", flush=True)


def probe(args):
    """Read what already exists, in one application context."""
    from invenio_access.models import ActionRoles
    from invenio_accounts.models import Role, User
    from invenio_app.factory import create_api
    from invenio_db import db
    from invenio_files_rest.models import Location
    from invenio_search import current_search_client
    from sqlalchemy import inspect

    app = create_api()
    with app.app_context():
        state = {"tables": inspect(db.engine).has_table("accounts_user")}
        if state["tables"]:
            state["location"] = Location.get_default() is not None
            state["roles"] = {role.name for role in Role.query.filter(Role.name.in_(ADMIN_ROLES))}
            admin_role = Role.query.filter_by(name="admin").one_or_none()
            state["superuser"] = admin_role is not None and ActionRoles.query.filter_by(
                action="superuser-access", role_id=admin_role.id).count() > 0
            admin = User.query.filter_by(email=args.admin_email).one_or_none()
            state["admin"] = admin is not None
            state["admin_is_admin"] = admin is not None and any(role.name == "admin" for role in admin.roles)
            from invenio_vocabularies.records.models import VocabularyType
            state["vocabularies"] = VocabularyType.query.filter_by(id="languages").one_or_none() is not None
        # HEAD on the alias: scoped to the prefix the search user may read
        state["indices"] = current_search_client.indices.exists(index=f"{args.index_prefix}rdmrecords-records")
    return state


def main(args):
    state = probe(args)

    if not state["tables"]:
        invenio("db", "init", "create")
        changed("database tables")
        state = probe(args)

    if not state["location"]:
        invenio("files", "location", "create", "--default", "default-location", args.files_path)
        changed("default files location")

    for role in ADMIN_ROLES:
        if role not in state["roles"]:
            invenio("roles", "create", role)
            changed(f"role {role}")
    if not state["superuser"]:
        invenio("access", "allow", "superuser-access", "role", "admin")
        changed("superuser access for role admin")

    fresh_indices = not state["indices"]
    if fresh_indices:
        invenio("index", "init")
        invenio("rdm-records", "custom-fields", "init")
        invenio("communities", "custom-fields", "init")
        changed("search indices and custom fields")

    # Declaring queues is idempotent; the indexer and statistics need them.
    invenio("queues", "declare")

    if not state["vocabularies"]:
        invenio("rdm", "fixtures")
        invenio("rdm-records", "fixtures")
        changed("vocabularies and fixtures")
        if args.demo_data == "yes":
            invenio("rdm-records", "demo")
            changed("demo data")

    if not state["admin"]:
        directory = os.environ["CREDENTIALS_DIRECTORY"]
        with open(os.path.join(directory, args.admin_password_credential), encoding="utf-8") as handle:
            password = handle.read().strip()
        # The password reaches the CLI's prompt on stdin: never an argument or a variable.
        invenio("users", "create", args.admin_email, "--active", "--confirm", stdin=f"{password}\n{password}\n")
        changed("administrator account")
    if not state["admin_is_admin"]:
        invenio("roles", "add", args.admin_email, "admin")
        changed("administrator role")


if __name__ == "__main__":
    main(settings())
