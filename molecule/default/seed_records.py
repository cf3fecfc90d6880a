"""Publishes records with files on the site prepare.yml deployed, before the upgrade, and writes
what the tests compare afterwards: each record's id, title, file digest and schema version.

    python seed_records.py OUTPUT.json
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tests'))

import rdm_site  # noqa: E402
from records import FILE_KEY, draft_body, eventually, ok, search_ids, upload  # noqa: E402

TITLES = ['Glacier mass balance, seeded before the upgrade', 'River discharge, seeded before the upgrade']


def main(output):
    certificate = os.path.join(os.path.dirname(output), 'site.crt')
    with open(certificate, 'w', encoding='utf-8') as handle:
        handle.write(rdm_site.aio().file('/etc/nginx/tls/server.crt').content_string)
    token = rdm_site.admin_command('tokens', 'create', '--name', 'rdmops-seed', '--user', rdm_site.ADMIN_EMAIL).strip().splitlines()[-1]
    http = rdm_site.session(certificate, token)
    seeded = []
    for title in TITLES:
        payload = os.urandom(1024 * 1024 + len(title))
        draft = ok(http.post(f'{rdm_site.API_URL}/records', json=draft_body(title)), 201)
        upload(http, rdm_site.API_URL, draft['id'], payload)
        record = ok(http.post(f"{rdm_site.API_URL}/records/{draft['id']}/draft/actions/publish"), 202)
        seeded.append({'id': record['id'], 'title': title, 'file_key': FILE_KEY,
                       'sha256': hashlib.sha256(payload).hexdigest(),
                       'schema_version': record['custom_fields'].get('rdmops:schema_version')})
    for item in seeded:
        assert eventually(lambda: item['id'] in search_ids(http, rdm_site.API_URL, f'"{item["title"]}"'), 120), item
    with open(output, 'w', encoding='utf-8') as handle:
        json.dump({'records': seeded}, handle, indent=2)


if __name__ == '__main__':
    main(sys.argv[1])
