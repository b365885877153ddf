"""Looking at runs: TensorBoard logging, the HTML run report, the latent explorer, figures from Python.

``gankit.viz.tensorboard`` needs only gankit's core; the rest needs the ``viz`` extra (matplotlib, Flask)::

    from gankit.viz import image_grid, traversal_grid, class_grid, code_grid, curve_figure, scatter_figure, write_report
    from gankit.viz import category_grid, code_traversal_grid, figure_grid   # CGAN / InfoGAN figures
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "image_grid": "gankit.viz.grids",
    "traversal_grid": "gankit.viz.grids",
    "class_grid": "gankit.viz.grids",
    "code_grid": "gankit.viz.grids",
    "category_grid": "gankit.viz.grids",
    "code_traversal_grid": "gankit.viz.grids",
    "figure_grid": "gankit.viz.grids",
    "scatter_array": "gankit.viz.grids",
    "curve_figure": "gankit.viz.plots",
    "scatter_figure": "gankit.viz.plots",
    "latent_layout": "gankit.viz.latent",
    "interpolate": "gankit.viz.latent",
    "write_report": "gankit.viz.report",
    "TensorBoardLogger": "gankit.viz.tensorboard",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:  # lazy, so that `import gankit` never imports matplotlib or Flask
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gankit.viz' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
