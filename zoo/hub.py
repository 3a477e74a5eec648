"""The Hugging Face Hub both ways, and bundled pretrained weights, all ending in a local model dir.

* ``pull(ref)``: ``hf://OWNER/NAME[@REVISION]`` -> a snapshot folder in huggingface_hub's cache
  (``HF_HOME``/``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``, ``HF_ENDPOINT`` and the token are read by
  huggingface_hub itself, with its own progress bars).
* ``fetch_pretrained(entry)``: a registry entry -> its folder, every file's sha256 checked first;
  ``pkg://`` entries live inside an installed plugin package, ``hf://`` entries are pinned commits.
* ``push(folder, repo_id)``: create the repository if needed and commit the model directory.

Every huggingface_hub or HTTP failure becomes one ``ZooError`` line (``describe_error``). The token
is never read into a message: it only travels in huggingface_hub's own request headers.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.resources
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.artifacts import check_model_dir, read_config
from zoo.catalogue import Pretrained
from zoo.errors import ZooError
from zoo.fileio import sha256_file
from zoo.layout import CONFIG, MODEL_FILES, README, WEIGHTS

PREFIX = "hf://"
LIBRARY = "seqzoo"
"""How seqzoo names itself to the Hub (``library_name``/``library_version`` in every request's
user agent), as timm and transformers do, so the Hub can count and route its traffic."""


def client() -> dict[str, str]:
    """The ``library_name``/``library_version`` keywords for huggingface_hub calls."""
    from zoo import __version__

    return {"library_name": LIBRARY, "library_version": __version__}
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
PUSHED_FILES = MODEL_FILES


@dataclass(frozen=True)
class HubRef:
    """A parsed ``hf://OWNER/NAME[@REVISION]``."""

    repo_id: str
    revision: str | None = None

    def __str__(self) -> str:
        return f"{PREFIX}{self.repo_id}" + (f"@{self.revision}" if self.revision else "")


def parse_ref(ref: str) -> HubRef:
    """Parse ``hf://OWNER/NAME[@REVISION]`` (the ``hf://`` prefix is optional here)."""
    body = ref[len(PREFIX):] if ref.startswith(PREFIX) else ref
    repo_id, _, revision = body.partition("@")
    if not _REPO_ID.match(repo_id) or "--" in repo_id or ".." in repo_id:
        raise ZooError(f"{ref}: expected hf://OWNER/NAME[@REVISION]")
    if "@" in body and not revision:
        raise ZooError(f"{ref}: empty revision after '@'")
    return HubRef(repo_id, revision or None)


def endpoint_url(endpoint: str | None = None) -> str:
    from huggingface_hub import constants

    return (endpoint or constants.ENDPOINT).rstrip("/")


# -- errors -------------------------------------------------------------------------------------
def describe_error(exc: BaseException, target: HubRef, filename: str | None = None,
                   endpoint: str | None = None) -> str | None:
    """One line for a huggingface_hub/HTTP failure, or None when ``exc`` is not one of those."""
    from huggingface_hub import errors as e

    where = endpoint_url(endpoint)
    rev = target.revision or "main"
    if isinstance(exc, e.OfflineModeIsEnabled) or (isinstance(exc, e.LocalEntryNotFoundError) and _offline()):
        return (f"{target} is not in the local cache and HF_HUB_OFFLINE=1 forbids downloading it "
                f"(pull it once while online)")
    if isinstance(exc, e.LocalEntryNotFoundError):
        cause = exc.__cause__
        if isinstance(cause, e.HfHubHTTPError) and cause.response is not None:
            return (f"the Hub at {where} answered HTTP {cause.response.status_code} for {target} and no cached "
                    f"copy exists; try again later")
        return f"cannot reach the Hub at {where} and {target} is not in the local cache"
    if isinstance(exc, e.GatedRepoError):
        return (f"{target.repo_id} is a gated repository: request access on its page at {where}, then log in "
                f"(HF_TOKEN or `hf auth login`)")
    if isinstance(exc, e.RepositoryNotFoundError):
        return (f"repository '{target.repo_id}' not found at {where} (if it is private, log in with HF_TOKEN "
                f"or `hf auth login`)")
    if isinstance(exc, e.RevisionNotFoundError):
        return f"revision '{rev}' not found in repository '{target.repo_id}'"
    if isinstance(exc, e.EntryNotFoundError):
        return f"file '{filename or '?'}' not found in repository '{target.repo_id}' at revision {rev}"
    if isinstance(exc, e.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        if status == 401:
            return f"the Hub at {where} refused the credentials (HTTP 401): check HF_TOKEN or run `hf auth login`"
        if status == 403:
            return f"the Hub at {where} denied access to '{target.repo_id}' (HTTP 403): check the token's permissions"
        return f"the Hub at {where} answered HTTP {status} for {target}"
    if isinstance(exc, e.HFValidationError):
        return f"{target}: not a valid repository id or revision"
    if is_transport_error(exc):
        return f"cannot reach the Hub at {where} ({type(exc).__name__})"
    if isinstance(exc, OSError) and "Consistency check failed" in str(exc):
        return f"the download of '{filename or target}' was incomplete (network trouble); try again"
    return None


def _offline() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub reads it (a function since 1.x, a constant before)."""
    from huggingface_hub import constants

    check = getattr(constants, "is_offline_mode", None)
    return bool(check() if callable(check) else constants.HF_HUB_OFFLINE)


# The HTTP libraries huggingface_hub has used for transport: requests (0.x), httpx (1.x), httpx2 (2.x).
_TRANSPORT_LIBRARIES = ("requests", "urllib3", "httpx", "httpcore", "httpx2", "httpcore2")
_TRANSPORT_WORDS = ("Connect", "Timeout", "Transport", "Network", "Proxy", "SSL")


def is_transport_error(exc: BaseException) -> bool:
    """Whether ``exc`` means the Hub could not be reached (no connection, timeout, TLS, proxy).

    huggingface_hub wraps HTTP answers in its own ``errors`` types but lets its transport
    library's connection errors through, and that library changed across its versions. So they
    are recognised by their class names and modules, without importing any of those libraries.
    """
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    for cls in type(exc).__mro__:
        if cls.__module__.split(".")[0] in _TRANSPORT_LIBRARIES and any(w in cls.__name__ for w in _TRANSPORT_WORDS):
            return True
    return False


@contextlib.contextmanager
def hub_errors(target: HubRef, filename: str | None = None, endpoint: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub's exceptions into one clear ``ZooError`` line."""
    try:
        yield
    except ZooError:
        raise
    except Exception as exc:  # noqa: BLE001 - classified below, re-raised if unknown
        message = describe_error(exc, target, filename, endpoint)
        if message is None:
            raise
        raise ZooError(message) from None


# -- pull -----------------------------------------------------------------------------------------
def pull(ref: str, *, cache_dir: str | os.PathLike[str] | None = None, endpoint: str | None = None) -> Path:
    """Download (or find in the cache) a model repository; return its local snapshot folder."""
    from huggingface_hub import snapshot_download

    target = parse_ref(ref)
    with hub_errors(target, endpoint=endpoint):
        folder = snapshot_download(
            target.repo_id, revision=target.revision, cache_dir=cache_dir, endpoint=endpoint, **client(),
        )
    path = Path(folder)
    if not (path / CONFIG).is_file():
        raise ZooError(f"{target}: not a seqzoo model repository (no {CONFIG})")
    check_model_dir(path, name=str(target))
    return path


# -- pretrained entries -----------------------------------------------------------------------
def fetch_pretrained(entry: Pretrained, *, cache_dir: str | os.PathLike[str] | None = None,
                     endpoint: str | None = None) -> Path:
    """The verified local folder of a registry entry (downloaded first if it is Hub-hosted)."""
    folder = _fetch_hub(entry, cache_dir, endpoint) if entry.is_hub else _bundled_folder(entry)
    check_model_dir(folder, name=f"pretrained '{entry.name}'")
    return folder


def _bundled_folder(entry: Pretrained) -> Path:
    package, relative = entry.package_location()
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError:
        raise ZooError(
            f"pretrained '{entry.name}' ships inside the Python package '{package}', which is not installed; "
            f"install its distribution (pip install {_distribution_hint(package)})"
        ) from None
    base = Path(str(root)).resolve()
    folder = Path(str(root.joinpath(relative))).resolve()  # symlinks followed: where the files really are
    if not folder.is_relative_to(base):
        raise ZooError(f"pretrained '{entry.name}': {entry.source} leads outside the package '{package}' "
                       f"({folder}); refused")
    if not folder.is_dir():
        raise ZooError(f"pretrained '{entry.name}': {entry.source} is missing from the installed package "
                       f"'{package}'; reinstall {_distribution_hint(package)}")
    for name, expected in entry.files.items():
        file = folder / name
        if not file.is_file():
            raise ZooError(f"pretrained '{entry.name}': file '{name}' is missing from {folder}")
        actual = sha256_file(file)
        if actual != expected:
            raise ZooError(
                f"pretrained '{entry.name}': file '{name}' failed its sha256 check (expected {expected[:12]}..., "
                f"got {actual[:12]}...); reinstall {_distribution_hint(package)}"
            )
    return folder


def _distribution_hint(package: str) -> str:
    dists = importlib.metadata.packages_distributions().get(package)
    if dists:
        return dists[0]
    return f"seqzoo-{package[4:]}" if package.startswith("zoo_") else package


def _fetch_hub(entry: Pretrained, cache_dir: Any, endpoint: str | None) -> Path:
    from huggingface_hub import hf_hub_download

    repo_id, commit = entry.hub_location()
    target = HubRef(repo_id, commit)
    folder: Path | None = None
    for name, expected in entry.files.items():
        with hub_errors(target, filename=name, endpoint=endpoint):
            local = Path(hf_hub_download(repo_id, name, revision=commit, cache_dir=cache_dir, endpoint=endpoint,
                                               **client()))
        actual = sha256_file(local)
        if actual != expected:
            _evict(local)
            raise ZooError(
                f"pretrained '{entry.name}': file '{name}' from {target} failed its sha256 check (expected "
                f"{expected[:12]}..., got {actual[:12]}...); the download was discarded"
            )
        root = local
        for _ in Path(name).parts:
            root = root.parent
        folder = folder or root
    assert folder is not None  # the catalogue guarantees at least two files
    return folder


def _evict(pointer: Path) -> None:
    """Remove a cached file (the snapshot link and the blob behind it) so nothing reuses it."""
    blob = Path(os.path.realpath(pointer))
    for path in (pointer, blob):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# -- push -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PushResult:
    repo_id: str
    commit: str
    url: str
    commit_url: str
    card_kept: bool = False
    """The repository's README.md was written or edited on the Hub, so it was left as it was."""

    @property
    def ref(self) -> str:
        return f"{PREFIX}{self.repo_id}@{self.commit}"


def push(folder: str | os.PathLike[str], repo_id: str, *, private: bool = False, branch: str | None = None,
         message: str | None = None, endpoint: str | None = None, overwrite_card: bool = False) -> PushResult:
    """Commit a model directory's files to ``repo_id`` (created when missing); return the commit.

    A README.md on the Hub that is not the card seqzoo made for the repository's config.json (a
    person wrote or edited it) is kept unless ``overwrite_card``; timm's push checks the same way.
    """
    from huggingface_hub import CommitOperationAdd, HfApi, get_token

    from zoo.card import card_for_push

    path = Path(folder)
    target = parse_ref(repo_id)
    if target.revision:
        raise ZooError(f"{repo_id}: give the branch with --branch, not '@'")
    check_model_dir(path, name=str(path))
    config = read_config(path)
    if get_token() is None:
        raise ZooError("no Hugging Face token found: set HF_TOKEN or run `hf auth login`")
    api = HfApi(endpoint=endpoint, **client())
    operations = [
        CommitOperationAdd(path_in_repo=WEIGHTS, path_or_fileobj=str(path / WEIGHTS)),
        CommitOperationAdd(path_in_repo=CONFIG, path_or_fileobj=str(path / CONFIG)),
    ]
    with hub_errors(target, endpoint=endpoint):
        api.create_repo(target.repo_id, private=private, exist_ok=True)
        if branch:
            api.create_branch(target.repo_id, branch=branch, exist_ok=True)
        keep_card = not overwrite_card and _card_edited_on_hub(target.repo_id, branch, endpoint)
        if not keep_card:
            operations.append(CommitOperationAdd(path_in_repo=README,
                                                 path_or_fileobj=card_for_push(path, config, target.repo_id)))
        commit_message = message or f"Upload seqzoo {config['task']['name']}/{config['model']['name']} model"
        try:
            info = api.create_commit(target.repo_id, operations, commit_message=commit_message, revision=branch)
            oid, commit_url = info.oid, info.commit_url
        except ValueError as exc:
            # huggingface_hub before 2.0, given an endpoint as an argument, commits and then fails
            # to parse the commit URL (it expects the default endpoint): read the commit back.
            if "Unable to retrieve user and repo ID" not in str(exc):
                raise
            oid = api.repo_info(target.repo_id, revision=branch or "main").sha
            commit_url = f"{api.endpoint}/{target.repo_id}/commit/{oid}"
    return PushResult(target.repo_id, oid, f"{api.endpoint}/{target.repo_id}", commit_url, keep_card)


def _card_edited_on_hub(repo_id: str, revision: str | None, endpoint: str | None) -> bool:
    """Whether the repository holds a README.md other than the card seqzoo makes for its config.json."""
    import json
    import tempfile

    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, RevisionNotFoundError

    from zoo.card import card_text

    with tempfile.TemporaryDirectory(prefix="seqzoo-card-") as tmp:
        def fetch(name: str) -> str:
            return Path(hf_hub_download(repo_id, name, revision=revision, cache_dir=tmp, endpoint=endpoint,
                                        **client())).read_text(encoding="utf-8")
        try:
            text = fetch(README)
        except (EntryNotFoundError, RevisionNotFoundError):
            return False  # no card yet (or a new branch): ours goes up
        try:
            config = json.loads(fetch(CONFIG))
            return text != card_text(config, f"{PREFIX}{repo_id}")
        except (EntryNotFoundError, ValueError, KeyError, TypeError, AttributeError):
            return True  # a README without a readable seqzoo config: someone else's words
