"""A small Hugging Face Hub-compatible HTTP server on 127.0.0.1, for tests without internet.

It speaks the routes the real ``huggingface_hub`` client uses to create a model repository,
commit regular (non-LFS) files inline as base64 NDJSON, read model info and tree listings and
resolve files, with the headers ``hf_hub_download`` relies on (ETag, X-Repo-Commit,
Content-Length, same-host redirects from a branch to its commit) and the ``X-Error-Code`` headers
the client turns into typed errors. Large-file protocols (LFS batch, Xet) are not implemented:
preupload always answers ``regular``.

Test controls: ``token`` (the one accepted bearer token), ``gate(repo)``, ``fail_with = 500``,
``tamper(repo, path, data)`` and ``requests`` (every request seen, header names lower-cased).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_SHA = re.compile(r"^[0-9a-f]{40}$")
_REPO = r"(?P<repo>[\w.-]+/[\w.-]+)"


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob: what the Hub reports as a regular file's oid and ETag."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    private: bool = False
    gated: bool = False
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def commit(self, parent: str | None, files: dict[str, bytes], message: str) -> str:
        digest = hashlib.sha1((parent or "").encode() + message.encode())
        for path in sorted(files):
            digest.update(path.encode() + b"\0" + files[path])
        sha = digest.hexdigest()
        self.commits[sha] = files
        return sha

    def resolve(self, revision: str) -> str | None:
        if revision in self.branches:
            return self.branches[revision]
        return revision if revision in self.commits else None


class HubServer:
    """Start with ``HubServer()``; ``url`` is its endpoint; ``stop()`` shuts it down."""

    def __init__(self, token: str | None = None, user: str = "tester") -> None:
        self.token = token
        self.user = user
        self.repos: dict[str, Repo] = {}
        self.fail_with: int | None = None
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"hub": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- test controls ---------------------------------------------------------------------
    def gate(self, repo_id: str) -> None:
        self.repos[repo_id].gated = True

    def tamper(self, repo_id: str, path: str, data: bytes, revision: str = "main") -> None:
        """Change a file's bytes in place (a corrupted mirror): same commit, different content."""
        repo = self.repos[repo_id]
        sha = repo.resolve(revision)
        assert sha is not None
        repo.commits[sha][path] = data

    def create(self, repo_id: str, private: bool = False) -> Repo:
        repo = Repo(private=private)
        initial = repo.commit(None, {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"},
                              "initial commit")
        repo.branches["main"] = initial
        self.repos[repo_id] = repo
        return repo


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass

    # -- plumbing --------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"error": message},
                   {"X-Error-Code": code, "X-Error-Message": message, **(headers or {})})

    def _authorized(self) -> bool:
        return self.hub.token is not None and self.headers.get("Authorization") == f"Bearer {self.hub.token}"

    def _repo(self, repo_id: str) -> Repo | None:
        """The repository if this caller may read it; otherwise the error has been sent."""
        repo = self.hub.repos.get(repo_id)
        if repo is None or (repo.private and not self._authorized()):
            self._error(401, "RepoNotFound", "Repository not found")
            return None
        if repo.gated and not self._authorized():
            self._error(403, "GatedRepo", "Access to model is restricted. You must have access to it.")
            return None
        return repo

    def _snapshot(self, repo_id: str, revision: str) -> tuple[Repo | None, str | None]:
        """The readable repository and the commit sha of ``revision``; (.., None) once an error is sent."""
        found = self._repo(repo_id)
        if found is None:
            return None, None
        sha = found.resolve(revision)
        if sha is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return found, sha

    def _dispatch(self, routes: list[tuple[str, Any]]) -> None:
        parts = urlsplit(self.path)
        self.query = parse_qs(parts.query)
        self.hub.requests.append({"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
        if self.hub.fail_with is not None:
            self._body()
            self._send(self.hub.fail_with, b"<html><body>Internal Server Error</body></html>",
                       content_type="text/html")
            return
        for pattern, handler in routes:
            m = re.fullmatch(pattern, unquote(parts.path))
            if m:
                with self.hub._lock:
                    handler(self, **m.groupdict())
                return
        self._send(404, b"Not Found", content_type="text/plain")

    def do_GET(self) -> None:
        self._dispatch([
            (rf"/api/models/{_REPO}(?:/revision/(?P<revision>[^/]+))?", _Handler.model_info),
            (rf"/api/models/{_REPO}/tree/(?P<revision>[^/]+)(?:/(?P<path>.*))?", _Handler.tree),
            (rf"/{_REPO}/resolve/(?P<revision>[^/]+)/(?P<path>.+)", _Handler.resolve),
        ])

    do_HEAD = do_GET

    def do_POST(self) -> None:
        self._dispatch([
            (r"/api/repos/create", _Handler.create_repo),
            (r"/api/validate-yaml", _Handler.validate_yaml),
            (rf"/api/models/{_REPO}/preupload/(?P<revision>[^/]+)", _Handler.preupload),
            (rf"/api/models/{_REPO}/commit/(?P<revision>[^/]+)", _Handler.commit),
            (rf"/api/models/{_REPO}/branch/(?P<branch>[^/]+)", _Handler.create_branch),
        ])

    # -- routes ----------------------------------------------------------------------------
    def create_repo(self) -> None:
        payload = json.loads(self._body() or b"{}")
        if not self._authorized():
            self._error(401, "Unauthorized", "Invalid credentials in Authorization header")
            return
        repo_id = f"{payload.get('organization') or self.hub.user}/{payload['name']}"
        if repo_id in self.hub.repos:
            message = "You already created this model repo"
            self._json(409, {"error": message, "url": f"{self.hub.url}/{repo_id}"},
                       {"X-Error-Code": "RepoExists", "X-Error-Message": message})
            return
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        self.hub.create(repo_id, private=private)
        self._json(200, {"url": f"{self.hub.url}/{repo_id}", "name": repo_id})

    def validate_yaml(self) -> None:
        self._body()
        self._json(200, {"warnings": [], "errors": []})

    def create_branch(self, repo: str, branch: str) -> None:
        self._body()
        found = self._writable(repo)
        if found is None:
            return
        if branch in found.branches:
            self._error(409, "BranchExists", "Reference already exists")
            return
        found.branches[branch] = found.branches["main"]
        self._json(200, {})

    def _writable(self, repo_id: str) -> Repo | None:
        if not self._authorized():
            self._error(401, "Unauthorized", "Invalid credentials in Authorization header")
            return None
        return self._repo(repo_id)

    def preupload(self, repo: str, revision: str) -> None:
        payload = json.loads(self._body())
        found = self._writable(repo)
        if found is None:
            return
        sha = found.resolve(revision)
        current = found.commits[sha] if sha else {}
        files = [
            {
                "path": f["path"],
                "uploadMode": "regular",
                "shouldIgnore": False,
                "oid": git_blob_oid(current[f["path"]]) if f["path"] in current else None,
            }
            for f in payload["files"]
        ]
        self._json(200, {"files": files, "commitOid": sha})

    def commit(self, repo: str, revision: str) -> None:
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        found = self._writable(repo)
        if found is None:
            return
        parent = found.branches.get(revision)
        if parent is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return
        files = dict(found.commits[parent])
        summary = ""
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "header":
                summary = value["summary"]
            elif key == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                files.pop(value["path"], None)
            else:
                self._error(400, "BadRequest", f"this test server does not support '{key}' operations")
                return
        sha = found.commit(parent, files, summary)
        found.branches[revision] = sha
        self._json(200, {"commitUrl": f"{self.hub.url}/{repo}/commit/{sha}", "commitOid": sha,
                         "pullRequestUrl": None})

    def model_info(self, repo: str, revision: str | None = None) -> None:
        found, sha = self._snapshot(repo, revision or "main")
        if sha is None:
            return
        self._json(200, {
            "id": repo, "modelId": repo, "sha": sha, "private": found.private, "gated": found.gated,
            "siblings": [{"rfilename": p} for p in sorted(found.commits[sha])],
        })

    def tree(self, repo: str, revision: str, path: str | None = None) -> None:
        found, sha = self._snapshot(repo, revision)
        if sha is None:
            return
        prefix = f"{path.rstrip('/')}/" if path else ""
        entries = [
            {"type": "file", "oid": git_blob_oid(data), "size": len(data), "path": p}
            for p, data in sorted(found.commits[sha].items())
            if p.startswith(prefix)
        ]
        self._json(200, entries)

    def resolve(self, repo: str, revision: str, path: str) -> None:
        found, sha = self._snapshot(repo, revision)
        if sha is None:
            return
        if revision != sha:  # a branch: redirect (same host) to the immutable commit url
            self._send(307, b"", {"Location": f"/{repo}/resolve/{sha}/{path}", "X-Repo-Commit": sha})
            return
        data = found.commits[sha].get(path)
        if data is None:
            self._error(404, "EntryNotFound", f"{path} does not exist on \"{revision}\"", {"X-Repo-Commit": sha})
            return
        self._send(200, data, {"ETag": f'"{git_blob_oid(data)}"', "X-Repo-Commit": sha},
                   content_type="application/octet-stream")


def main() -> None:
    """Run the server in the foreground (handy for trying ``zoo push``/``zoo pull`` by hand)."""
    import os
    import time

    server = HubServer(token=os.environ.get("HF_TOKEN", "hf_test_token"))
    print(f"HF_ENDPOINT={server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
