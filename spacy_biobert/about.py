__title__ = "spacy-biobert"
__version__ = "0.1.0"
