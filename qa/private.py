"""What the chat keeps of what users type, and where (README, "What is kept where"): nothing on disk.

The conversation lives in the server's memory, in the browser session's state (`--sessions`, the least recently
used dropped first; *Clear chat* empties it). The files the app writes while running, export files and Gradio's
copies of the files it serves, go to one folder of this process only (mode 0700), in memory (/dev/shm) where the
system has it. Gradio's cleaner removes its copies a few minutes old, and the whole folder is removed when the
process exits, by Ctrl-C or SIGTERM; a folder left by a process that was killed is removed at the next start."""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
from pathlib import Path

from qa.pids import alive

PREFIX = "qa-chat-"  # then the process id: qa-chat-1234-xxxxxxxx
MEMORY = Path("/dev/shm")


def remove_orphans(base: Path) -> list[Path]:
    """Remove this app's folders in `base` whose process is gone; the folders removed."""
    removed = []
    for folder in base.glob(f"{PREFIX}*"):
        pid = folder.name.removeprefix(PREFIX).split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)) and folder.stat().st_uid == os.getuid():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def private_folder(base: Path | None = None) -> Path:
    """A new folder of this process only, in memory where the system has /dev/shm, removed at exit."""
    if base is None:
        base = MEMORY if MEMORY.is_dir() and os.access(MEMORY, os.W_OK) else Path(tempfile.gettempdir())
    remove_orphans(base)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))  # mode 0700
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # Gradio closes its server on it, and then atexit removes the folder


def go_private() -> Path:
    """Point Gradio's file cache into a private folder (before any component is made: each reads it when made) and
    have SIGTERM end the process as Ctrl-C does, so that the folder is removed. The folder, for export files: Gradio
    serves files from its cache folder, and its cleaner removes them there too."""
    folder = private_folder() / "gradio"
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    signal.signal(signal.SIGTERM, _interrupt)
    return folder
