"""Entity linking to MeSH and OMIM: vocabulary readers, KB, candidates, the linker."""
from .ids import namespace_id, namespace_ids
from .kb import LinkingKB, build_kb
from .vocab import VocabError

__all__ = ["LinkingKB", "VocabError", "build_kb", "namespace_id", "namespace_ids"]
