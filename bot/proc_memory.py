"""Resident memory (RSS) of a process and its children, read from Linux's /proc.

Used by `make bench`; /proc avoids adding psutil for one number.
"""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def _status_kb(pid: int, field: str) -> int:
    """A ``kB`` field (VmRSS, VmHWM) of /proc/<pid>/status; 0 if the process is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """All descendants of a process (Rasa may start helper processes)."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """RSS (or, with field="VmHWM", peak RSS) of a process and its descendants, in MB."""
    return sum(_status_kb(p, field) for p in [pid, *children(pid)]) / 1024.0
