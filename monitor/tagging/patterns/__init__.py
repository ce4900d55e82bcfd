"""Data files of the tagger (a package only so that setuptools ships them)."""
