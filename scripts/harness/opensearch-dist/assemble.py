#!/usr/bin/env python3
"""Assemble an OpenSearch 2.x archive with the layout of an official one from Maven Central.

Maven Central publishes the server as `org.opensearch.distribution.integ-test-zip:opensearch`
(bin/, config/, lib/ and only the transport-netty4 module) and every other module as a bare
jar whose POM lists the third-party jars it needs. The official archives add, per module, a
directory modules/<name>/ holding those jars, a plugin-descriptor.properties and, where the
module needs extra permissions, a plugin-security.policy. This script writes exactly that, so
the role under test installs it through its ordinary "install from an archive" path.

Usage: assemble.py VERSION CACHE_DIR OUTPUT_TARBALL  (progress on stderr, nothing on stdout)
"""

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
import zipfile

MAVEN = os.environ.get("RDMOPS_MAVEN_REPO", "https://repo1.maven.org/maven2").rstrip("/")
POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}

# Modules InvenioRDM v13 mappings and queries rely on, plus systemd (Type=notify readiness).
# name: (artifactId under org.opensearch.plugin, description, extended plugins, policy grants)
MODULES = {
    "lang-painless": ("lang-painless", "Painless scripting language", [],
                      ['java.lang.RuntimePermission "createClassLoader"',
                       'java.lang.RuntimePermission "getClassLoader"']),
    "analysis-common": ("analysis-common", "Common analysis components: asciifolding, edge_ngram, ...",
                        ["lang-painless"], []),
    "mapper-extras": ("mapper-extras-client", "Extra field types: scaled_float, rank_feature, search_as_you_type, ...", [], []),
    "reindex": ("reindex-client", "Reindex, update by query and delete by query", [],
                ['java.net.SocketPermission "*", "connect"']),
    "parent-join": ("parent-join-client", "Join field type and parent/child queries", [], []),
    "percolator": ("percolator-client", "Percolator field type and query", [], []),
    "aggs-matrix-stats": ("aggs-matrix-stats-client", "Matrix statistics aggregation", [], []),
    "ingest-common": ("ingest-common", "Common ingest processors", ["lang-painless"], []),
    "geo": ("geo", "Geo shape field type and geo aggregations", [], []),
    "systemd": ("systemd", "Readiness notification to systemd (OPENSEARCH_SD_NOTIFY=true)", [],
                ['java.lang.RuntimePermission "accessDeclaredMembers"']),
}

# Plugins the official "full" archive ships under plugins/<name>/, as Maven Central publishes
# them (a zip with the plugin's files at its root), in the release built for the server:
# plugin version <server version>.0.
PLUGINS = {
    "opensearch-security": ("org.opensearch.plugin", "opensearch-security"),
}


def log(msg):
    print(f"build-opensearch-dist: {msg}", file=sys.stderr, flush=True)


class Repo:
    """Maven Central downloads, cached on disk and checked against the published SHA-1."""

    def __init__(self, cache):
        self.cache = cache
        self.downloads = 0

    def path(self, group, artifact, version, ext):
        rel = f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.{ext}"
        return rel, os.path.join(self.cache, rel)

    def get(self, group, artifact, version, ext):
        rel, dest = self.path(group, artifact, version, ext)
        if os.path.exists(dest):
            return dest
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        log(f"download {rel}")
        data = self._fetch(f"{MAVEN}/{rel}")
        expected = self._fetch(f"{MAVEN}/{rel}.sha1").decode().split()[0].strip().lower()
        actual = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        if actual != expected:
            raise SystemExit(f"checksum mismatch for {rel}: got sha1 {actual}, Maven Central says {expected}")
        tmp = dest + ".part"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
        self.downloads += 1
        return dest

    @staticmethod
    def _fetch(url):
        for attempt in range(3):
            try:
                with urllib.request.urlopen(url, timeout=120) as resp:
                    return resp.read()
            except OSError as exc:
                if attempt == 2:
                    raise SystemExit(f"cannot download {url}: {exc}") from exc
                time.sleep(2 * (attempt + 1))
        raise AssertionError("unreachable")


def pom_dependencies(pom_file):
    """(group, artifact, version, transitive) of the runtime dependencies a POM declares."""
    root = ET.parse(pom_file).getroot()
    deps = []
    for dep in root.findall("m:dependencies/m:dependency", POM_NS):
        def field(tag, dep=dep):
            return (dep.findtext(f"m:{tag}", default="", namespaces=POM_NS) or "").strip()
        if field("scope") not in ("", "compile", "runtime") or field("optional") == "true":
            continue
        excluded = {(e.findtext("m:groupId", namespaces=POM_NS), e.findtext("m:artifactId", namespaces=POM_NS))
                    for e in dep.findall("m:exclusions/m:exclusion", POM_NS)}
        deps.append((field("groupId"), field("artifactId"), field("version"), ("*", "*") not in excluded))
    return deps


def module_jars(repo, artifact, version, server_artifacts):
    """The module jar and every jar it needs that the server's lib/ does not already hold.

    OpenSearch refuses to start when a module repeats a class of lib/ ("jar hell"), so anything
    the server ships (and the server itself, which the painless SPI declares) is left out.
    """
    jars, seen = [], set()
    todo = [("org.opensearch.plugin", artifact, version, True)]
    while todo:
        group, art, ver, transitive = todo.pop(0)
        if (group, art) in seen or art in server_artifacts or (group, art) == ("org.opensearch", "opensearch"):
            continue
        seen.add((group, art))
        if not ver:
            raise SystemExit(f"{group}:{art} has no version in the POM that names it")
        jars.append(repo.get(group, art, ver, "jar"))
        if transitive:
            todo.extend(pom_dependencies(repo.get(group, art, ver, "pom")))
    return jars


def plugin_class(jar):
    """The one top-level *Plugin class the module jar defines."""
    with zipfile.ZipFile(jar) as zf:
        names = [n[:-len(".class")].replace("/", ".") for n in zf.namelist()
                 if n.endswith("Plugin.class") and "$" not in n]
    if len(names) != 1:
        raise SystemExit(f"expected one plugin class in {os.path.basename(jar)}, found {names}")
    return names[0]


def descriptor(name, description, classname, version, extended):
    return "".join(f"{key}={value}\n" for key, value in [
        ("description", description),
        ("version", version),
        ("name", name),
        ("classname", classname),
        ("java.version", "11"),
        ("opensearch.version", version),
        ("custom.foldername", ""),
        ("extended.plugins", ",".join(extended)),
        ("has.native.controller", "false"),
    ])


def artifact_name(jar_name):
    """'lucene-core-9.12.3.jar' -> 'lucene-core' (artifact id without version)."""
    stem = jar_name[:-len(".jar")]
    parts = stem.split("-")
    for i, part in enumerate(parts):
        if part[:1].isdigit():
            return "-".join(parts[:i])
    return stem


def main():
    version, cache, output = sys.argv[1:4]
    repo = Repo(os.path.join(cache, "maven"))
    top = f"opensearch-{version}"
    started = time.monotonic()

    server_zip = repo.get("org.opensearch.distribution.integ-test-zip", "opensearch", version, "zip")
    with tempfile.TemporaryDirectory(dir=cache, prefix="assemble-") as work:
        with zipfile.ZipFile(server_zip) as zf:
            for info in zf.infolist():
                if not info.filename.startswith(top + "/"):
                    raise SystemExit(f"unexpected entry {info.filename} in {server_zip}")
                extracted = zf.extract(info, work)
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    os.chmod(extracted, mode)
        home = os.path.join(work, top)
        for sub in ("bin", "config", "lib", "modules", "plugins", "logs"):
            os.makedirs(os.path.join(home, sub), exist_ok=True)
        # The scripts in bin/ are executable in the official archives; keep them so even when
        # the zip carried no Unix modes.
        for script in os.listdir(os.path.join(home, "bin")):
            if not script.endswith((".bat", ".exe")):
                os.chmod(os.path.join(home, "bin", script), 0o755)
        server_artifacts = {artifact_name(f) for f in os.listdir(os.path.join(home, "lib")) if f.endswith(".jar")}

        for name, (artifact, description, extended, grants) in MODULES.items():
            target = os.path.join(home, "modules", name)
            os.makedirs(target, exist_ok=True)
            jars = module_jars(repo, artifact, version, server_artifacts)
            for jar in jars:
                shutil.copy2(jar, target)
            with open(os.path.join(target, "plugin-descriptor.properties"), "w", encoding="utf-8") as fh:
                fh.write(descriptor(name, description, plugin_class(jars[0]), version, extended))
            if grants:
                with open(os.path.join(target, "plugin-security.policy"), "w", encoding="utf-8") as fh:
                    fh.write("grant {\n" + "".join(f"  permission {g};\n" for g in grants) + "};\n")
            log(f"module {name}: {', '.join(os.path.basename(j) for j in jars)}")

        for name, (group, artifact) in PLUGINS.items():
            install_plugin(repo, home, name, group, artifact, f"{version}.0", version)

        tmp_out = output + ".part"
        with tarfile.open(tmp_out, "w:gz") as tar:
            tar.add(home, arcname=top, filter=_normalise)
        os.replace(tmp_out, output)
    log(f"{repo.downloads} downloads, assembled in {time.monotonic() - started:.1f}s")


def install_plugin(repo, home, name, group, artifact, plugin_version, server_version):
    """Unpack a plugin zip into plugins/<name>/ as `opensearch-plugin install` would."""
    plugin_zip = repo.get(group, artifact, plugin_version, "zip")
    target = os.path.join(home, "plugins", name)
    os.makedirs(target, exist_ok=True)
    with zipfile.ZipFile(plugin_zip) as zf:
        for info in zf.infolist():
            if info.filename.startswith("/") or ".." in info.filename.split("/"):
                raise SystemExit(f"unsafe entry {info.filename} in {plugin_zip}")
            zf.extract(info, target)
    tools = os.path.join(target, "tools")
    if os.path.isdir(tools):
        for script in os.listdir(tools):
            if script.endswith(".sh"):
                os.chmod(os.path.join(tools, script), 0o755)
    desc_path = os.path.join(target, "plugin-descriptor.properties")
    with open(desc_path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    built_for = [line.split("=", 1)[1] for line in lines if line.startswith("opensearch.version=")]
    if built_for != [server_version]:
        raise SystemExit(f"plugin {name} {plugin_version} was built for OpenSearch {built_for}, not {server_version}")
    log(f"plugin {name}: {plugin_version} from {os.path.basename(plugin_zip)}")


def _normalise(info):
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


if __name__ == "__main__":
    main()
