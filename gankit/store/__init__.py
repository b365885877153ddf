"""The run folder on disk: its layout, its config, checkpoints and the checks of their state, JSON files, the
log file, the lock, where commands may write, and the fault points of the kill test.

The store sits low in the layers: it knows files and the config, never training, networks, metrics or
figures. What trains a run (``gankit.training``) and what loads one back (``gankit.trained``) use it.
"""
