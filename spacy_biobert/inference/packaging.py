"""An optimized pipeline as its own package: ``python -m spacy_biobert optimize MODEL
OUTPUT --precision onnx-int8`` writes a pipeline folder ready for ``spacy package``.

Its meta says what it is: the name gains the precision (``biobert_ner`` ->
``biobert_ner_onnx_int8``, so the package ``en_biobert_ner_onnx_int8`` installs beside
the fp32 ``en_biobert_ner``), the description names it, ``spacy_biobert_precision``
holds it, and an ONNX precision requires ``onnxruntime``.
"""
import json
from pathlib import Path
from typing import Any, Dict, Optional

import typer
from wasabi import msg

from ..extras import MissingExtraError
from .optimize import META_KEY
from .precision import ONNX_PRECISIONS, InferenceError

#: What an ONNX precision adds to the package requirements (loading needs only the runtime).
ONNXRUNTIME_REQUIREMENT = "onnxruntime>=1.17"


def optimized_meta(meta: Dict[str, Any], precision: str) -> Dict[str, Any]:
    """The meta of the pipeline ``meta`` describes, optimized to ``precision``."""
    out = dict(meta)
    suffix = precision.replace("-", "_")
    name = str(meta.get("name", "pipeline"))
    if precision != "fp32" and not name.endswith(f"_{suffix}"):
        out["name"] = f"{name}_{suffix}"
    note = (f"Transformer at {precision} (spacy_biobert.optimize): faster on CPU, for "
            "inference only.")
    out["description"] = " ".join(x for x in (str(meta.get("description", "")).strip(), note)
                                  if x)
    out[META_KEY] = precision
    requirements = list(meta.get("requirements", []))
    if precision in ONNX_PRECISIONS and not any(r.startswith("onnxruntime")
                                                for r in requirements):
        requirements.append(ONNXRUNTIME_REQUIREMENT)
    out["requirements"] = requirements
    return out


def optimize_cmd(
    model: str = typer.Argument(..., help="The fp32 pipeline: a folder or installed package"),
    output: Path = typer.Argument(..., help="Folder to write the optimized pipeline to"),
    precision: str = typer.Option("onnx-int8", "--precision",
                                  help="int8, onnx or onnx-int8 (fp32: a plain copy)"),
    meta_path: Optional[Path] = typer.Option(
        None, "--meta", help="Package meta to start from (package-meta output)"),
) -> None:
    """Save a pipeline with its transformer optimized, ready for `spacy package`."""
    import spacy

    from .optimize import optimize

    try:
        nlp = spacy.load(model)
        base = nlp.meta if meta_path is None else {
            **nlp.meta, **json.loads(meta_path.read_text(encoding="utf8"))}
        optimize(nlp, precision)
    except (InferenceError, MissingExtraError, OSError) as err:
        msg.fail("optimize failed", str(err), exits=1)
        return
    nlp.meta = optimized_meta(base, precision)
    nlp.to_disk(output)
    msg.good(f"Saved the {precision} pipeline {nlp.meta['lang']}_{nlp.meta['name']} to "
             f"{output}", f"package it with: python -m spacy package {output} packages "
             "--build wheel")
