# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""A benchmark's processes: its trainings and scorings, a few at a time,
each timed (wall and CPU seconds) and its peak memory read."""
import os
import os.path as osp
import sys
import time
from typing import Iterator, List, Optional, Tuple

from mmdet_sssd.utils.mmdet_tools import tools_env


def job_name() -> str:
    """The running command's name for its messages: ``digits-benchmark``
    for ``tools/digits_benchmark.py``."""
    return osp.splitext(osp.basename(sys.argv[0]))[0].replace('_', '-')


def phase(msg: str) -> None:
    """A step of the job, stamped with the time."""
    print(f'\n[{job_name()} {time.strftime("%H:%M:%S")}] {msg}',
          flush=True)


def start(cmd: List[str], log_file: Optional[str], threads: int,
          cwd: str):
    """Starts ``cmd`` in ``cwd`` with ``threads`` torch threads and this
    process's ``mmdet_sssd`` first on its path; its output goes to
    ``log_file``, or to this terminal where that is None."""
    import subprocess
    env = tools_env(OMP_NUM_THREADS=str(threads),
                    MKL_NUM_THREADS=str(threads))
    if log_file is None:
        return subprocess.Popen(cmd, cwd=cwd, env=env)
    os.makedirs(osp.dirname(log_file), exist_ok=True)
    log = open(log_file, 'w')
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def run_all(pending: list, jobs: int, threads: int, cwd: str
            ) -> Iterator[Tuple[tuple, float, float, float]]:
    """Runs the (key, what, command, log file) tasks of the list
    ``pending``, ``jobs`` at a time; yields (key, wall seconds, peak RSS in
    MB, CPU seconds) as each one ends. The caller may append tasks to
    ``pending`` meanwhile (a run's scoring after its training). A failed
    task ends the job (the others are stopped) with its command and log."""
    running = {}
    while pending or running:
        while pending and len(running) < jobs:
            key, what, cmd, log_file = pending.pop(0)
            phase(f'{key[0]}, seed {key[1]}: {what}'
                  + (f' (log: {log_file})' if log_file else ''))
            proc = start(cmd, log_file, threads, cwd)
            # keep the Popen: a collected one may be reaped by subprocess
            running[proc.pid] = (key, what, time.time(), cmd, log_file,
                                 proc)
        for pid in list(running):
            pid, status, usage = os.wait4(pid, os.WNOHANG)
            if pid:
                break
        else:
            time.sleep(0.5)
            continue
        key, what, began, cmd, log_file, _ = running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        if code:
            for other in running.values():
                other[-1].terminate()
            sys.exit(f'{what} failed ({code}): {" ".join(cmd)}'
                     + (f'\nits log: {log_file}' if log_file else ''))
        yield (key, time.time() - began, usage.ru_maxrss / 1024,
               usage.ru_utime + usage.ru_stime)
