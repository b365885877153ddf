"""The commands of ``gankit``, one module each: ``add_parser`` (its flags) beside ``cmd_NAME`` (what it does).

``gankit.cli`` assembles them into one parser; what several commands share (the run and its G weights, number
types, lists of classes) is defined once in ``gankit.commands.options``. What only a handler needs (the trainer,
the metrics, the viz extra) is imported inside the handler, not when the parser is built.
"""
