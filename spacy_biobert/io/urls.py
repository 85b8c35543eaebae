"""Database URLs in ``--input``/``--output`` values, without importing SQLAlchemy.

``annotate`` tells files from databases before it knows whether the ``sql`` extra is
installed, so these two helpers must not need it.
"""
from urllib.parse import urlsplit, urlunsplit


def is_sql_url(spec: str) -> bool:
    """Whether an ``--input``/``--output`` value is a database URL."""
    return "://" in spec and not spec.startswith("file://")


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a URL that cannot be parsed is shown as is
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))
