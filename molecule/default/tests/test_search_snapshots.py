"""The scheduled search snapshot on the real site: the raw usage events InvenioRDM records when a
visitor views and downloads a record land in the snapshot the timer's service takes. The record
visited is the published one of conftest.py, with its file."""
import json

import rdm_site

REPOSITORY = '/var/lib/opensearch-snapshots/invenio-search'
# InvenioRDM drops events of clients it takes for robots (python-requests among them).
BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'


def repository_index(host):
    """The fs repository's own catalogue (its newest index-N file): snapshots and indices by name."""
    latest = host.check_output(f"ls {REPOSITORY} | grep -E '^index-[0-9]+$' | sort -t- -k2 -n | tail -n 1")
    return json.loads(host.check_output(f'cat {REPOSITORY}/{latest}'))


def visit_a_record(anonymous, record):
    """A visitor's landing page view and file download of a published record."""
    anonymous.headers['User-Agent'] = BROWSER
    assert anonymous.get(f"{rdm_site.SITE_URL}/records/{record['id']}").status_code == 200
    files = anonymous.get(f"{rdm_site.API_URL}/records/{record['id']}/files").json()['entries']
    download = anonymous.get(f"{rdm_site.SITE_URL}/records/{record['id']}/files/{files[0]['key']}?download=1")
    assert download.status_code == 200 and len(download.content) == files[0]['size']


def test_the_scheduled_snapshot_holds_the_sites_usage_events(anonymous, published):
    host = rdm_site.aio()
    assert host.service('opensearch-snapshot.timer').is_enabled
    visit_a_record(anonymous, published)
    # Views and downloads wait in the broker until the statistics task indexes them (beat runs
    # it periodically); run it now rather than wait for the schedule.
    rdm_site.admin_command('shell', '-c', '"from invenio_stats.tasks import process_events; process_events([\'record-view\', \'file-download\'])"')
    host.run_test('systemctl start opensearch-snapshot.service')
    catalogue = repository_index(host)
    indices = set(catalogue['indices'])
    assert any(name.startswith('rdm-events-stats-record-view-') for name in indices), indices
    assert any(name.startswith('rdm-events-stats-file-download-') for name in indices), indices
    # only what the database cannot rebuild: no record, community or vocabulary index
    assert not [name for name in indices if name.startswith(('rdm-rdmrecords', 'rdm-communities', 'rdm-vocabularies'))], indices
    assert [snapshot['state'] for snapshot in catalogue['snapshots']][-1] == 1, catalogue['snapshots']  # 1: SUCCESS
