"""Put our components into a pipeline you already have.

``add_biobert_pipes(nlp, biobert_nlp)`` sources the shared transformer and every
component that listens to it (the NER heads, the relation extractor when the pipeline
has one) from ``biobert_nlp`` into ``nlp``, in order, with plain
``nlp.add_pipe(name, source=biobert_nlp)`` calls.

**Entities next to another ``ner``.** By default our components go right *before* the
pipeline's own ``ner`` (or at the end when it has none). Our heads write ``doc.ents``
first; spaCy's ``ner`` keeps entities that are already set and labels only the tokens
that are still free. So ``doc.ents`` holds both label sets (``CHEMICAL`` next to
``PERSON``, ``GPE``, ``DATE``...), and where the two would overlap ours win. Pass
``after="ner"`` for the opposite precedence.

**Listeners.** Our heads read the transformer through listener layers. When the
transformer comes along (the default), they keep sharing its one forward pass. With
``with_transformer=False`` each sourced component gets its own copy of the transformer
(``Language.replace_listeners``): use it to take only the relation extractor behind
another NER, or when ``nlp`` already has a component named like our transformer.
"""
import logging
from typing import Any, Dict, List, Optional, Sequence

from spacy.language import Language
from spacy.util import load_model_from_config

logger = logging.getLogger(__name__)

#: The architecture that replaces a TransformerListener once the component owns a
#: copy of the transformer (what spacy-transformers itself uses for that case).
TOK2VEC_TRANSFORMER = "spacy-transformers.Tok2VecTransformer.v3"


def transformer_names(nlp: Language) -> List[str]:
    """Names of the components that other components listen to (transformers)."""
    from spacy_transformers import Transformer

    return [name for name, pipe in nlp.pipeline if isinstance(pipe, Transformer)]


def listener_paths(config: Dict[str, Any], prefix: str = "") -> List[str]:
    """Dotted paths of every TransformerListener block in a component config."""
    paths = []
    for key, value in config.items():
        if not isinstance(value, dict):
            continue
        path = f"{prefix}.{key}" if prefix else key
        if "TransformerListener" in str(value.get("@architectures", "")):
            paths.append(path)
        else:
            paths.extend(listener_paths(value, path))
    return paths


def _get_path(config: Dict[str, Any], path: str) -> Dict[str, Any]:
    node = config
    for key in path.split("."):
        node = node[key]
    return node


def _set_path(config: Dict[str, Any], path: str, value: Dict[str, Any]) -> None:
    keys = path.split(".")
    node = config
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value


def copy_pipeline(nlp: Language) -> Language:
    """An independent copy of a loaded pipeline (same config, same weights)."""
    copy = load_model_from_config(nlp.config, auto_fill=False, validate=False)
    return copy.from_bytes(nlp.to_bytes())


def own_transformer(nlp: Language, component: str, transformer: str = "transformer") -> None:
    """Give ``component`` its own copy of ``transformer`` instead of listening to it.

    ``Language.replace_listeners`` swaps the listener layers in the model; its config
    rewrite only recognises a listener at ``model.tok2vec``, so listeners nested deeper
    (our heads' ``model.tok2vec.listener``) get their config section written here:
    a ``Tok2VecTransformer.v3`` block with the transformer's settings and the
    listener's pooling and grad_factor. The result survives ``to_disk``/``spacy.load``.
    """
    config = nlp.get_pipe_config(component)
    paths = listener_paths(config)
    if not paths:
        return
    originals = {path: dict(_get_path(config, path)) for path in paths}
    trf_model = nlp.get_pipe_config(transformer)["model"]
    nlp.replace_listeners(transformer, component, paths)
    config = nlp.get_pipe_config(component)
    for path, listener in originals.items():
        block = dict(trf_model)
        block["@architectures"] = TOK2VEC_TRANSFORMER
        block["pooling"] = listener.get("pooling", {"@layers": "reduce_mean.v1"})
        block["grad_factor"] = listener.get("grad_factor", 1.0)
        _set_path(config, path, block)


def add_biobert_pipes(
    nlp: Language,
    source: Language,
    *,
    components: Optional[Sequence[str]] = None,
    with_transformer: bool = True,
    before: Optional[str] = None,
    after: Optional[str] = None,
) -> List[str]:
    """Source our transformer and components from ``source`` into ``nlp``.

    nlp (Language): The pipeline to extend (e.g. ``spacy.blank("en")`` or
        ``spacy.load("en_core_web_sm")``).
    source (Language): A spacy-biobert pipeline (e.g. ``spacy.load("en_biobert_ner")``).
        With ``with_transformer=False`` it is copied first, so it stays unchanged.
    components (Optional[Sequence[str]]): Which components to take (default: every
        component except the transformer, in pipeline order).
    with_transformer (bool): Also source the shared transformer (right before the
        first component); otherwise each component gets its own transformer copy.
    before (Optional[str]): Insert before this component (default: ``"ner"`` when
        ``nlp`` has one, else at the end).
    after (Optional[str]): Insert after this component instead.
    RETURNS (List[str]): The names added to ``nlp``, in order.
    """
    if before is not None and after is not None:
        raise ValueError("pass at most one of before= and after=")
    trf_names = transformer_names(source)
    if len(trf_names) != 1:
        raise ValueError(f"expected one transformer in the source pipeline, found "
                         f"{trf_names or 'none'} in {source.pipe_names}")
    trf = trf_names[0]
    wanted = list(components) if components is not None else [
        name for name in source.pipe_names if name != trf]
    unknown = [name for name in wanted if name not in source.pipe_names or name == trf]
    if unknown:
        raise ValueError(f"not a component of the source pipeline (besides '{trf}'): "
                         f"{unknown}; it has {source.pipe_names}")
    to_add = ([trf] if with_transformer else []) + wanted
    clashes = [name for name in to_add if name in nlp.component_names]
    if clashes:
        hint = (" (with_transformer=False gives our components their own transformer copy)"
                if trf in clashes else "")
        raise ValueError(f"{nlp.meta.get('name', 'the pipeline')} already has "
                         f"component(s) named {clashes}{hint}")
    if not with_transformer:
        source = copy_pipeline(source)
        for name in wanted:
            own_transformer(source, name, trf)
    position = _position(nlp, before, after)
    added: List[str] = []
    for name in to_add:
        if not added:
            nlp.add_pipe(name, source=source, **position)
        else:
            nlp.add_pipe(name, source=source, after=added[-1])
        added.append(name)
    logger.info("added %s to the pipeline: %s", added, nlp.pipe_names)
    return added


def _position(nlp: Language, before: Optional[str], after: Optional[str]
              ) -> Dict[str, Any]:
    if after is not None:
        return {"after": after}
    if before is not None:
        return {"before": before}
    if "ner" in nlp.pipe_names:
        return {"before": "ner"}
    return {"last": True}

