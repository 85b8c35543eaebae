"""What a run counts: the part a corpus conversion report and an annotation summary share."""
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List

#: Examples of skipped or repaired input a run keeps to show (the first ones).
MAX_EXAMPLES = 20


@dataclass
class RunCounts:
    """Entities by label, relations by label and the first examples of what went wrong."""

    entities: Counter = field(default_factory=Counter)
    relations: Counter = field(default_factory=Counter)
    examples: List[str] = field(default_factory=list)

    def note(self, example: str) -> None:
        """Keep ``example`` to show, unless ``MAX_EXAMPLES`` are kept already."""
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(example)


def sorted_counts(counts: Counter) -> Dict[str, int]:
    """A counter as a plain dict in key order (stable JSON)."""
    return dict(sorted(counts.items()))
