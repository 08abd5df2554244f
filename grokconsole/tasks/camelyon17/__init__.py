"""Task ``camelyon17``: WILDS Camelyon17 tumour patches from a local folder (spec, checks, data, task)."""
