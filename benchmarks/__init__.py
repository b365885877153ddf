"""gankit's benchmark scripts (not part of the installed package); run each from the repository root as a file:

    python benchmarks/NAME.py ...

Their shared code is in this package: ``benchmarks.common`` (a run trained and scored once, the shared setups'
overrides, timing) and ``benchmarks.md`` (Markdown: tables, marked sections of a page, numbers). Every script
imports it the same way, after one line that makes the package importable when the script runs as a file::

    sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
    from benchmarks import md
    from benchmarks.common import run_and_score

Appended, not inserted: ``gankit`` is still imported from where it was before (an installed gankit, PYTHONPATH;
eval_speed.py runs itself beside an older gankit). The tests import the scripts as ``benchmarks.NAME``
(pytest puts the repository root on ``sys.path``); ``python -m benchmarks.NAME`` works too.
"""
