"""The order of the examples gallery: from first steps to extending the package."""

from pathlib import Path

ORDER = [
    "plot_quickstart.py",
    "plot_text_tfidf_sentence_teacher.py",
    "plot_table_with_text.py",
    "plot_semi_supervised.py",
    "plot_grid_search_beta.py",
    "plot_several_teachers.py",
    "plot_images_timm.py",
    "plot_plugin.py",
    "serve_onnx.py",
]


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``: listed examples first, in ``ORDER``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        return (ORDER.index(name), name) if name in ORDER else (len(ORDER), name)
