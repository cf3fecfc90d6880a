"""Print the PEM certificates of a CA bundle that Debian's ca-certificates does not ship,
or with OUTDIR write each to OUTDIR/host-extra-ca-N.crt (update-ca-certificates wants one
certificate per file).

Used by build-base-image.sh to carry a site's extra CA (e.g. a TLS-inspecting proxy) into
the test image.
"""
import glob
import re
import sys

PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def certs(text):
    return ["".join(c.split()) for c in PEM.findall(text)], PEM.findall(text)


def main(bundle_path, outdir=None):
    with open(bundle_path, encoding="ascii", errors="replace") as fh:
        keys, pems = certs(fh.read())
    shipped = set()
    for path in glob.glob("/usr/share/ca-certificates/mozilla/*.crt"):
        with open(path, encoding="ascii", errors="replace") as fh:
            shipped.update(certs(fh.read())[0])
    extra = [pem for key, pem in zip(keys, pems) if key not in shipped]
    if outdir is None:
        print("\n".join(extra))
        return
    for number, pem in enumerate(extra, 1):
        with open(f"{outdir}/host-extra-ca-{number}.crt", "w", encoding="ascii") as fh:
            fh.write(pem + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
