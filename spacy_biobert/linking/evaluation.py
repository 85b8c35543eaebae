"""Gold-mention linking accuracy: accuracy@1 per corpus and label, overall and unseen.

Each gold CHEMICAL/DISEASE mention with an id is given to the linker with its id
removed; the prediction is right when its set of ids equals the gold set (MEDIC's
equivalent OMIM and MeSH ids count as one). "Unseen" mentions are those whose gold
ids never occur in the training split the KB's priors came from; ``gold_not_in_kb``
counts mentions with a gold id the vocabularies no longer have (retired or merged),
and ``in_kb_accuracy`` is accuracy@1 on the other mentions (a corpus annotated with an
older MeSH names concepts since promoted from supplementary concept to descriptor,
such as quetiapine, by ids the KB's MeSH version no longer has). A wrong mention is a
ranking error when its gold ids are among the linker's ``top_k`` candidates
(``ranking_errors``), else a candidate miss (``candidate_misses``): what a better
ranking could still win, and what only new candidates could.
"""
import resource
import time
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from ..extensions import (
    KB_CANDIDATES_KEY,
    KB_IDS_KEY,
    get_kb_candidates,
    get_kb_ids,
    install_extensions,
)
from .component import EntityLinker
from .ids import namespace_ids
from .kb import LinkingKB


def training_ids(kb: LinkingKB) -> Set[str]:
    """Every (canonical) id that occurs in the KB's training priors."""
    seen: Set[str] = set()
    for table in kb.priors.values():
        for counts in table.values():
            for id_string in counts:
                seen.update(kb.canonical(i) for i in id_string.split("|"))
    return seen


def strip_gold(doc: Doc, labels: List[str]) -> List[Tuple[Span, Tuple[str, ...]]]:
    """Remove gold ids from the doc's entities; return the gold (entity, ids) to score."""
    gold = [(e, namespace_ids(get_kb_ids(e))) for e in doc.ents]
    doc.ents = [Span(doc, e.start, e.end, label=e.label) for e in doc.ents]
    doc.user_data.pop(KB_IDS_KEY, None)
    doc.user_data.pop(KB_CANDIDATES_KEY, None)
    return [(e, ids) for e, ids in gold if ids and e.label_ in labels]


def _counter() -> Dict[str, int]:
    return {"mentions": 0, "correct": 0, "unseen": 0, "unseen_correct": 0, "nil": 0,
            "gold_not_in_kb": 0, "in_kb_correct": 0, "gold_in_candidates": 0}


def _summary(c: Dict[str, int]) -> Dict[str, Any]:
    def pct(a: int, b: int) -> float:
        return round(100 * a / b, 2) if b else 0.0

    return dict(c, accuracy=pct(c["correct"], c["mentions"]),
                ranking_errors=c["gold_in_candidates"] - c["correct"],
                candidate_misses=c["mentions"] - c["gold_in_candidates"],
                unseen_accuracy=pct(c["unseen_correct"], c["unseen"]),
                in_kb_accuracy=pct(c["in_kb_correct"], c["mentions"] - c["gold_not_in_kb"]))


def evaluate_linking(nlp: Language, linker: EntityLinker, paths: List[Path]) -> Dict[str, Any]:
    """Accuracy@1 of ``linker`` on the gold mentions of DocBin files, per corpus and label.

    RETURNS (Dict[str, Any]): ``{"corpora": {name: {label: summary}}, "cost": {...}}``.
    """
    install_extensions()
    kb = linker._kb()
    seen = training_ids(kb)
    labels = list(linker.cfg["labels"])
    corpora: Dict[str, Dict[str, Dict[str, int]]] = {}
    elapsed, total = 0.0, 0
    for path in paths:
        docs = list(DocBin(store_user_data=True).from_disk(path).get_docs(nlp.vocab))
        table = corpora.setdefault(Path(path).stem, {})
        for doc in docs:
            gold = strip_gold(doc, labels)
            start = time.perf_counter()
            linker(doc)
            elapsed += time.perf_counter() - start
            total += len(doc.ents)
            predicted = {(e.start, e.end): get_kb_ids(e) for e in doc.ents}
            candidates = {(e.start, e.end): get_kb_candidates(e) for e in doc.ents}
            for ent, ids in gold:
                c = table.setdefault(ent.label_, _counter())
                pred = predicted.get((ent.start, ent.end), ())
                want = {kb.canonical(i) for i in ids}
                right = {kb.canonical(i) for i in pred} == want
                found = right or any({kb.canonical(i) for i in cand.split("|")} == want
                                     for cand, _ in candidates.get((ent.start, ent.end), ()))
                unseen = not any(kb.canonical(i) in seen for i in ids)
                c["mentions"] += 1
                c["correct"] += right
                c["nil"] += not pred
                c["unseen"] += unseen
                c["unseen_correct"] += unseen and right
                retired = any(not kb.knows(i) for i in ids)
                c["gold_not_in_kb"] += retired
                c["in_kb_correct"] += right and not retired
                c["gold_in_candidates"] += found
    return {
        "corpora": {name: {lab: _summary(c) for lab, c in sorted(t.items())}
                    for name, t in corpora.items()},
        "cost": {"linked_mentions": total,
                 "seconds_per_1000_mentions": round(1000 * elapsed / max(total, 1), 3),
                 "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)},
        "kb": {"mesh_version": kb.mesh_version, **kb.report},
        "settings": {k: v for k, v in linker.cfg.items() if k != "kb_path"},
    }


def linking_markdown(metrics: Dict[str, Any]) -> str:
    """A Markdown table of :func:`evaluate_linking`'s metrics."""
    lines = ["| corpus | label | mentions | acc@1 | unseen mentions | unseen acc@1 | NIL | "
             "gold id not in KB | acc@1, gold id in KB | wrong: ranking | wrong: no candidate |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, table in metrics["corpora"].items():
        for label, s in table.items():
            lines.append(f"| {name} | {label} | {s['mentions']} | {s['accuracy']:.2f} | "
                         f"{s['unseen']} | {s['unseen_accuracy']:.2f} | {s['nil']} | "
                         f"{s['gold_not_in_kb']} | {s['in_kb_accuracy']:.2f} | "
                         f"{s['ranking_errors']} | {s['candidate_misses']} |")
    cost = metrics["cost"]
    lines.append("")
    extra = (f"; load {cost['load_seconds']} s, +{cost['loaded_rss_mb']} MB RSS loaded"
             if "load_seconds" in cost else "")
    lines.append(f"Linker: {cost['seconds_per_1000_mentions']} s per 1,000 mentions; "
                 f"max RSS {cost['max_rss_mb']} MB{extra}.")
    return "\n".join(lines) + "\n"
