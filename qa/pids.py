"""Whether a process still runs: what the import's temporary files and the app's private folders are named after,
so that those of a process that is gone can be removed."""
from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True while process `pid` exists (another user's included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
