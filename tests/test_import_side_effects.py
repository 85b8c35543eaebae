"""Importing spacy_biobert only registers functions.

spaCy imports the package of every installed entry point, even in ``spacy.blank("en")``,
so import must not set ``Doc``/``Span`` extensions or install the at-fork hook: the
components, readers and commands that need them do (idempotently, and leaving names that
another package set alone). Each check runs in a fresh interpreter.
"""
import json
import os
import subprocess
import sys
import textwrap

OUR_DOC_EXTENSIONS = ("doc_id", "corpus", "annotated_labels", "relations", "entity_relations")

PROBE = textwrap.dedent("""
    import json, sys
    import spacy
    from spacy.tokens import Doc, Span

    def state():
        import spacy_biobert.fork_safety as fork_safety
        return {"doc": [n for n in NAMES if Doc.has_extension(n)],
                "span": Span.has_extension("kb_ids"),
                "fork_hook": fork_safety._installed}

    out = {}
    nlp = spacy.blank("en")
    out["imported_by_blank"] = "spacy_biobert" in sys.modules
    import spacy_biobert
    out["after_import"] = state()
    BODY
    print(json.dumps(out))
""").replace("NAMES", repr(OUR_DOC_EXTENSIONS))


def _probe(body: str = "") -> dict:
    script = PROBE.replace("BODY", textwrap.indent(textwrap.dedent(body), "").strip())
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_blank_and_import_add_no_extension_and_no_fork_hook() -> None:
    out = _probe()
    # spaCy does import us for the entry points: the check below is not vacuous.
    assert out["imported_by_blank"]
    assert out["after_import"] == {"doc": [], "span": False, "fork_hook": False}


def test_components_install_what_they_need() -> None:
    out = _probe("""
        nlp.add_pipe("biobert_relation_extractor")
        out["after_component"] = state()
        from spacy_biobert import install_extensions, install_fork_hook
        install_extensions()
        out["again"] = state() == out["after_component"] and install_fork_hook()
    """)
    after = out["after_component"]
    assert sorted(after["doc"]) == sorted(OUR_DOC_EXTENSIONS)
    assert after["span"] and after["fork_hook"]
    assert out["again"]


def test_an_extension_set_by_another_package_is_kept() -> None:
    out = _probe("""
        Doc.set_extension("corpus", default="theirs")
        spacy_biobert.install_extensions()
        out["kept"] = spacy.blank("en")("x")._.corpus
    """)
    assert out["kept"] == "theirs"


def test_reading_a_docbin_installs_the_extensions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A .spacy file written with our extensions, read back in a fresh interpreter by the
    # NER evaluation (which reads doc._.corpus and doc._.annotated_labels).
    path = tmp_path / "dev.spacy"
    writer = textwrap.dedent(f"""
        import spacy
        from spacy.tokens import DocBin, Span
        import spacy_biobert
        spacy_biobert.install_extensions()
        nlp = spacy.blank("en")
        doc = nlp("Lithium caused nephropathy .")
        doc.ents = [Span(doc, 0, 1, "CHEMICAL")]
        doc._.corpus = "bc5cdr"
        doc._.annotated_labels = ("CHEMICAL",)
        DocBin(docs=[doc], store_user_data=True).to_disk({str(path)!r})
    """)
    subprocess.run([sys.executable, "-c", writer], check=True, timeout=300)
    out = _probe(f"""
        from spacy_biobert.evaluation import evaluate_corpora
        metrics = evaluate_corpora(spacy.blank("en"), [{str(path)!r}])
        out["corpora"] = sorted(metrics["corpora"])
        out["labels"] = sorted(metrics["corpora"]["bc5cdr"]["labels"])
    """)
    assert out["corpora"] == ["bc5cdr"] and out["labels"] == ["CHEMICAL"]
