"""Every metric module of gankit, imported so that its metrics register (see ``gankit.metrics.registry``).

A new metric is one module that calls ``register(Metric(...))``, and one import line here; the order of
the lines is the order of the metrics in results.
"""

from gankit.metrics import builtin as _builtin  # noqa: F401  fid, kid, prdc, classifier_score, classes, modes, …
from gankit.metrics import swd as _swd  # noqa: F401  sliced Wasserstein distance (Karras et al. 2018)
