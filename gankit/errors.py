"""The exceptions gankit raises for bad input: each message says what is wrong and how to fix it."""

import errno


class GankitError(Exception):
    """Base class: an error caused by the user's input, shown without a traceback by the CLI."""


class ConfigError(GankitError, ValueError):
    """An unknown recipe or field, a value of the wrong type, or an impossible value."""


class DataError(GankitError):
    """A data set that is missing, corrupt, truncated or inconsistent."""


class CheckpointError(GankitError):
    """A checkpoint or run directory that is missing, corrupt, or would be overwritten."""


class TrainingDiverged(GankitError):
    """Losses or weights became NaN/inf; the last good checkpoint is kept. ``step``: the step it was seen at."""

    def __init__(self, message: str, step: int | None = None):
        super().__init__(message)
        self.step = step


class TrainingCollapsed(TrainingDiverged):
    """G stayed mode-collapsed for ``train.watch_stop`` checks of the collapse watch; the message names the last
    checkpoint saved before the collapse began (kept on disk). A kind of divergence: trials drop such a trial."""


class DistributedError(GankitError):
    """The processes of a data-parallel run cannot meet or do not agree (config, run folder, weights).

    ``agreed``: the same error was raised on every rank (rank 0 reports it; the others stay quiet).
    """

    def __init__(self, message: str, agreed: bool = False):
        super().__init__(message)
        self.agreed = agreed


class PathError(GankitError):
    """A path the system refuses whatever gankit does with it: a name or path too long, a loop of symbolic links."""


PATH_ERRNOS = {
    errno.ENAMETOOLONG: "is longer than this system allows (a name at most 255 bytes, a path at most 4,096): "
    "use a shorter path",
    errno.ELOOP: "passes through a loop of symbolic links: fix or remove the links",
}


def path_error(error: OSError) -> PathError | None:
    """The :class:`PathError` an OSError from a path given by the user means, or None (another kind of failure)."""
    if error.errno not in PATH_ERRNOS:
        return None
    name = str(error.filename if error.filename is not None else "a path")
    shown = name if len(name) <= 80 else name[:79] + "…"
    return PathError(f"{shown} {PATH_ERRNOS[error.errno]}")
