"""The package stays readable: no function longer than a screenful or two."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "spacy_biobert"
MAX_LINES = 100


def test_no_function_over_100_lines() -> None:
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    too_long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} "
                                    f"{node.name} ({lines} lines)")
    assert not too_long, too_long
