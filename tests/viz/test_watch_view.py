"""The collapse watch's views: its checks read from metrics.jsonl records, coverage, and the histogram strip."""

from __future__ import annotations

import numpy as np
import pytest

from gankit.data.datasets import FASHION_CLASSES
from gankit.viz.plots import strip_figure
from gankit.viz.watch_view import coverage, coverage_text, histogram_strip, uncovered, watch_checks, watch_view
from tests.viz.watch_records import class_checks, feature_check, stacked_check


def test_the_strip_has_a_row_per_check_and_a_column_per_class():
    checks = watch_checks(class_checks(6, collapse_at=4))
    assert len(checks) == 6  # the plain records between checks are left out
    shares, steps = histogram_strip(checks)
    assert shares.shape == (6, 10) and steps == [100, 200, 300, 400, 500, 600]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(shares[0], 0.1)  # uniform
    assert shares[5, 3] == pytest.approx(0.999) and shares[5, 7] == pytest.approx(0.001) and shares[5, 0] == 0
    image = strip_figure(shares, steps, [str(i) for i in range(10)]).axes[0].images[0]
    assert image.get_array().shape == (6, 10)


def test_a_histogram_of_a_thousand_modes_or_none_makes_no_strip():
    assert histogram_strip([stacked_check() | {"watch_histogram": [1] * 1000}]) is None
    assert histogram_strip([feature_check()]) is None
    assert histogram_strip(watch_checks(class_checks(2))) is not None


def test_coverage_is_the_share_of_modes_covered_or_the_features_coverage():
    healthy, collapsed = (c for c in watch_checks(class_checks(2, collapse_at=1)))
    assert (coverage(healthy), coverage(collapsed)) == (1.0, 0.1)
    assert (coverage_text(healthy), coverage_text(collapsed)) == ("10/10", "1/10")
    assert (coverage(stacked_check()), coverage_text(stacked_check())) == (0.612, "612/1,000")
    assert (coverage(feature_check()), coverage_text(feature_check())) == (0.84, "0.84")
    assert coverage({"step": 1, "watch_kind": "classes"}) is None and coverage_text({"step": 1}) == ""


def test_the_view_names_the_latest_checks_missing_classes_and_the_collapsed_checks():
    records = class_checks(6, collapse_at=4)
    assert watch_view([r for r in records if "watch_kind" not in r], "mnist") is None  # an old run: no checks
    view = watch_view(records, "fashion-mnist")
    assert (view.kind, view.checks, view.collapsed_steps) == ("classes", 6, [500, 600])
    assert view.latest.step == 600 and view.latest.coverage == "1/10" and view.latest.collapsed
    assert view.latest.missing == [name for name in FASHION_CLASSES if name != "Dress"]  # the class names
    titles = [title for title, _ in view.curves]
    assert titles[:3] == [
        "Coverage of the fixed batch",
        "KL(p ‖ uniform) of its modes, nats",
        "Mode hopping: share relabelled since the last check",
    ]
    assert view.strip is not None and view.histogram is not None and not view.strip_note
    compact = watch_view(records, "mnist", compact=True)  # the explorer's
    assert [t for t, _ in compact.curves] == ["Coverage of the fixed batch"] and compact.strip is None
    assert compact.histogram is not None and compact.latest.missing == ["0", "1", "2", "4", "5", "6", "7", "8", "9"]


def test_odd_values_in_a_hand_edited_log_are_left_out_not_a_traceback():
    odd = {"step": 5, "watch_kind": "classes", "watch_modes": 10, "watch_covered": True, "watch_kl": 1e308}
    records = [odd | {"watch_histogram": [10**400, 1]}, odd | {"step": 6, "watch_histogram": [1, -1, "a"]}]
    assert histogram_strip(watch_checks(records)) is None and coverage(odd) is None
    view = watch_view(records, "mnist")
    assert view.latest.missing is None and view.latest.coverage == "" and view.strip is None
    assert [title for title, _ in view.curves] == ["KL(p ‖ uniform) of its modes, nats"]


def test_the_modes_not_covered_are_the_checks_smallest_counts_below_its_coverage():
    """The watch covers a mode from a share of its even share up: a mode of 1 sample in 1,000 is not covered."""
    check = {"watch_histogram": [0, 500, 1, 480, 19], "watch_covered": 3}
    assert uncovered(check) == [0, 2]
    assert uncovered(check | {"watch_covered": 4}) == [0] and uncovered(check | {"watch_covered": 5}) == []
    assert uncovered({"watch_histogram": [0, 500, 1, 480, 19]}) == [0]  # no count covered given: the empty ones
    assert uncovered(check | {"watch_covered": 7}) == [0]  # an inconsistent count: the empty ones
