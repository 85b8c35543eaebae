"""The project's entity labels and how each corpus's types map onto them.

======================== ========================================== =====================
corpus / format          source type                                label
======================== ========================================== =====================
BC5CDR (PubTator)        Chemical                                   CHEMICAL
BC5CDR (PubTator)        Disease                                    DISEASE
NCBI Disease (PubTator)  SpecificDisease, DiseaseClass, Modifier,   DISEASE
                         CompositeMention
BC2GM (IOB)              GENE                                       GENE_OR_GENE_PRODUCT
LINNAEUS (IOB)           Species                                    SPECIES
BioC / BRAT / others     Gene, GeneOrGeneProduct, Protein, DNA, RNA GENE_OR_GENE_PRODUCT
BioC / BRAT / others     Organism, Taxon, Species                   SPECIES
======================== ========================================== =====================

Matching is case-insensitive. A type that is in neither this table nor a user's
``label_map`` is an error, never silently dropped.
"""
from typing import Dict, Mapping, Optional

CHEMICAL = "CHEMICAL"
DISEASE = "DISEASE"
GENE = "GENE_OR_GENE_PRODUCT"
SPECIES = "SPECIES"
LABELS = (CHEMICAL, DISEASE, GENE, SPECIES)

#: Source type (lower-cased) -> project label.
TYPE_MAP: Dict[str, str] = {
    # BC5CDR, CHEMDNER, BioC CDR
    "chemical": CHEMICAL,
    "chemicalentity": CHEMICAL,
    "simple_chemical": CHEMICAL,
    "drug": CHEMICAL,
    # BC5CDR, NCBI Disease
    "disease": DISEASE,
    "diseaseorphenotypicfeature": DISEASE,
    "specificdisease": DISEASE,
    "diseaseclass": DISEASE,
    "modifier": DISEASE,
    "compositemention": DISEASE,
    # BC2GM and other gene corpora
    "gene": GENE,
    "geneorgeneproduct": GENE,
    "gene_or_gene_product": GENE,
    "protein": GENE,
    "dna": GENE,
    "rna": GENE,
    # LINNAEUS and other species corpora
    "species": SPECIES,
    "organismtaxon": SPECIES,
    "organism": SPECIES,
    "taxon": SPECIES,
}
for _label in LABELS:
    TYPE_MAP[_label.lower()] = _label


def map_type(source_type: str, label_map: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """Map a corpus's entity type to a project label.

    source_type (str): The type as written in the corpus, e.g. "SpecificDisease".
    label_map (Optional[Mapping[str, str]]): User overrides, checked first. Mapping a
        type to "" or "-" ignores it on purpose (counted by the converter).
    RETURNS (Optional[str]): The label, "" for a deliberately ignored type, or None
        for a type nobody mapped.
    """
    if label_map:
        for key, value in label_map.items():
            if key.lower() == source_type.lower():
                return "" if value in ("", "-") else value
    return TYPE_MAP.get(source_type.lower())
