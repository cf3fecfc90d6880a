"""Fill an OpenSearch index with at least --min-bytes of store, for scripts/bench/opensearch.sh.

Runs on the search node as root: the admin password comes from the node's encrypted credential
(systemd-creds), never from the command line. Documents look like InvenioRDM usage events plus
a random payload that compresses poorly, so the index's size on disk is close to what was sent.
Prints one JSON line: index, docs, store_bytes, load_seconds.
"""
import argparse
import base64
import json
import random
import ssl
import subprocess
import sys
import time
import urllib.request

CA = "/etc/opensearch/tls/ca.pem"


def client(url):
    password = subprocess.run(["systemd-creds", "decrypt", "/etc/credstore.encrypted/opensearch_admin_password", "-"],
                              check=True, capture_output=True, text=True).stdout.strip()
    context = ssl.create_default_context(cafile=CA)
    auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()

    def call(method, path, body=None, ndjson=False):
        data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        headers = {"Authorization": auth, "Content-Type": "application/x-ndjson" if ndjson else "application/json"}
        request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, context=context, timeout=600) as answer:
            return json.loads(answer.read() or b"{}")
    return call


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="https://127.0.0.1:9200")
    parser.add_argument("--index", required=True)
    parser.add_argument("--min-bytes", type=int, default=1024 ** 3)
    parser.add_argument("--batch", type=int, default=10000)
    args = parser.parse_args()
    call = client(args.url)
    rng = random.Random(20261123)
    call("PUT", f"/{args.index}", {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1",
                     "translog.durability": "async"},
        "mappings": {"dynamic": False,
                     "properties": {"seq": {"type": "long"}, "timestamp": {"type": "date"}, "recid": {"type": "keyword"}}}})
    started = time.monotonic()
    seq = 0
    store = 0
    while True:
        lines = []
        for _ in range(args.batch):
            lines.append(b'{"index":{}}')
            lines.append(json.dumps({
                "seq": seq, "timestamp": f"2026-01-{1 + seq % 28:02d}T{seq % 24:02d}:00:00",
                "recid": f"rec-{seq % 50000:05d}", "visitor_id": rng.randbytes(16).hex(),
                "is_robot": seq % 13 == 0, "payload": rng.randbytes(480).hex()}).encode())
            seq += 1
        answer = call("POST", f"/{args.index}/_bulk", b"\n".join(lines) + b"\n", ndjson=True)
        if answer.get("errors"):
            sys.exit("bulk errors: " + json.dumps([i for i in answer["items"] if "error" in i["index"]][:2]))
        if seq % (args.batch * 20) == 0:
            call("POST", f"/{args.index}/_flush")
            store = call("GET", f"/{args.index}/_stats/store")["indices"][args.index]["primaries"]["store"]["size_in_bytes"]
            print(f"  {seq} documents, {store / 1048576:.0f} MiB on disk", file=sys.stderr, flush=True)
            if store >= args.min_bytes:
                break
    call("PUT", f"/{args.index}/_settings", {"index": {"refresh_interval": "1s", "translog.durability": "request"}})
    call("POST", f"/{args.index}/_refresh")
    call("POST", f"/{args.index}/_flush")
    stats = call("GET", f"/{args.index}/_stats/store,docs")["indices"][args.index]["primaries"]
    print(json.dumps({"index": args.index, "docs": stats["docs"]["count"], "store_bytes": stats["store"]["size_in_bytes"],
                      "load_seconds": round(time.monotonic() - started, 1)}))


if __name__ == "__main__":
    main()
