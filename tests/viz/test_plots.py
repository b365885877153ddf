import numpy as np

from gankit.viz import curve_figure, scatter_figure
from gankit.viz.plots import curve_groups, figure_png, figure_svg

RECORDS = [
    {"step": 50, "epoch": 0, "d_loss": 0.7, "g_loss": 1.2, "d_real": 0.9, "images_per_s": 100.0},
    {"step": 100, "epoch": 0, "d_loss": 0.6, "g_loss": 1.1, "d_real": 0.8, "images_per_s": 110.0, "fid": 80.5},
]


def test_curve_groups_put_related_fields_together_and_the_rest_alone():
    assert curve_groups(RECORDS) == {
        "Losses": ["d_loss", "g_loss"],
        "Mean D output: D(x), D(G(z))": ["d_real"],
        "Throughput (images/s)": ["images_per_s"],
        "fid": ["fid"],
    }


def test_curve_figure_plots_the_logged_points():
    fig = curve_figure(RECORDS, ["d_loss", "fid"], "Losses")
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines["d_loss"].get_xdata()) == [50, 100] and list(lines["d_loss"].get_ydata()) == [0.7, 0.6]
    assert list(lines["fid"].get_xdata()) == [100]
    svg = figure_svg(fig)
    assert svg.startswith("<svg") and ">Losses<" in svg and "<metadata>" not in svg


def test_scatter_figure():
    fig = scatter_figure(np.zeros((5, 2)), np.ones((7, 2)))
    assert [len(c.get_offsets()) for c in fig.axes[0].collections] == [7, 5]
    assert figure_png(fig)[:4] == b"\x89PNG"


WATCH = {"watch_kind": "classes", "watch_modes": 10, "watch_covered": 2, "watch_kl": 1.6, "watch_collapsed": True}


def test_curve_groups_leave_the_collapse_watch_to_its_own_section():
    records = [*RECORDS, {"step": 150, "d_loss": 0.5, **WATCH, "watch_histogram": [0, 9, 0, 1] + [0] * 6}]
    assert curve_groups(records) == curve_groups(RECORDS)  # no watch_modes, watch_covered, watch_kl plots
    assert curve_groups([{"step": 1, "watch_kl": 1.0}, {"step": 2, "gp": 0.1}]) == {"Losses": ["gp"]}


def test_curve_figure_rings_the_points_of_flagged_records():
    records = [
        {"step": s, "coverage": c, "collapsed": s >= 300} for s, c in [(100, 1.0), (200, 0.9), (300, 0.2), (400, 0.1)]
    ]
    ax = curve_figure(records, ["coverage"], "Coverage", flag="collapsed").axes[0]
    (rings,) = ax.collections
    assert rings.get_offsets().tolist() == [[300, 0.2], [400, 0.1]] and rings.get_label() == "collapsed"
    assert not curve_figure(records, ["coverage"], "Coverage").axes[0].collections  # no flag: no rings
