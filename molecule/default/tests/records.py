"""Records through the site's REST API, as the tests make them."""
import time

FILE_KEY = 'measurements.bin'
FILE_SIZE = 10 * 1024 * 1024 + 17
TITLE = 'Lake temperatures, rdmops acceptance test'


def metadata(title):
    return {
        'resource_type': {'id': 'dataset'},
        'title': title,
        'publication_date': '2026-11-29',
        'creators': [{'person_or_org': {'type': 'personal', 'family_name': 'Tester', 'given_name': 'Ada'}}],
    }


def draft_body(title):
    return {'access': {'record': 'public', 'files': 'public'}, 'files': {'enabled': True}, 'metadata': metadata(title)}


def ok(response, *statuses):
    assert response.status_code in statuses, f'{response.request.method} {response.url}: {response.status_code} {response.text[:2000]}'
    return response.json() if response.content and 'json' in response.headers.get('content-type', '') else response


def eventually(check, timeout=60, interval=2):
    """Search sees a change after the index refreshes: ask until it does, within a bound."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def search_ids(http, api_url, query, allversions=False):
    params = {'q': query, 'allversions': 'true'} if allversions else {'q': query}
    found = ok(http.get(f'{api_url}/records', params=params), 200)
    return [hit['id'] for hit in found['hits']['hits']]


def upload(http, api_url, record_id, content):
    """Attach, upload and commit the file to the record's draft; the commit's answer."""
    files = f'{api_url}/records/{record_id}/draft/files'
    ok(http.post(files, json=[{'key': FILE_KEY}]), 201)
    ok(http.put(f'{files}/{FILE_KEY}/content', data=content, headers={'Content-Type': 'application/octet-stream'}), 200)
    return ok(http.post(f'{files}/{FILE_KEY}/commit'), 200)
