"""The laptop's folders for Sprintwatch: user data (sessions, keys) and cache (compiled
.mpy, the simulated device of ``--sim``). Light to import: every command's parser needs it."""
import os
from pathlib import Path


def data_dir():
    """``$SPRINTWATCH_DATA``, else the platform's user data folder (platformdirs:
    ``~/.local/share/sprintwatch`` or ``$XDG_DATA_HOME``, macOS Application Support,
    Windows %LOCALAPPDATA%)."""
    env = os.environ.get("SPRINTWATCH_DATA")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_data_dir("sprintwatch", appauthor=False))


def cache_dir():
    """``$SPRINTWATCH_CACHE``, else the platform's user cache folder: compiled .mpy files
    and the simulated device of ``--sim`` (never the user's data)."""
    env = os.environ.get("SPRINTWATCH_CACHE")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_cache_dir("sprintwatch", appauthor=False))
