"""Shared fixtures: offline Hugging Face, the --slow switch, a biomedical ``nlp``."""
import os
from pathlib import Path
from typing import Callable, List, Union

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import spacy  # noqa: E402
from spacy.language import Language  # noqa: E402

import spacy_biobert  # noqa: E402,F401  (registers functions, installs extensions)
from spacy_biobert.tokenizer import biomedical_tokenizer  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent

WriteFile = Callable[[str, Union[str, bytes]], Path]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False,
                     help="also run tests marked slow (or set SPACY_BIOBERT_SLOW=1)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: runs a real spacy train / project chain (minutes)")


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    if config.getoption("--slow") or os.environ.get("SPACY_BIOBERT_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: pass --slow or set SPACY_BIOBERT_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = biomedical_tokenizer(nlp)
    return nlp


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    path = (REPO_ROOT / ".." / "shared" / "datasets").resolve()
    if not path.is_dir():
        pytest.skip(f"corpus mirror {path} not present")
    return path


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write text (UTF-8) or bytes to ``tmp_path / name`` and return the path."""

    def write(name: str, content: Union[str, bytes]) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf8")
        return path

    return write
