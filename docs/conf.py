"""Sphinx configuration: numpydoc API reference, MyST pages and a sphinx-gallery of executed examples."""

import os
import sys
from pathlib import Path

import sklearn_aft

sys.path.insert(0, str(Path(__file__).parent / "_ext"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # teachers load from local files only
os.environ.setdefault("MPLBACKEND", "Agg")

project = "sklearn-aft"
author = "sklearn-aft developers"
copyright = "2026, sklearn-aft developers"
release = version = sklearn_aft.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = [
    "_build",
    "_ext",
    "_templates",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.json",
]
root_doc = "index"
templates_path = ["_templates"]
html_static_path = ["_static"]

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]
suppress_warnings = ["myst.header"]

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-aft {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every plot_*.py runs at build time
    "within_subsection_order": "gallery_order.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "reference_url": {"sklearn_aft": None},
    "doc_module": ("sklearn_aft",),
    "backreferences_dir": "generated/backreferences",
    "show_memory": False,
}
