"""Exec Envoy so that it dies with meshgate: `python -I -S launcher.py --parent-pid P -- envoy ARGS...`.

ManagedEnvoy starts Envoy through this script rather than directly. In the child, before Envoy
runs, it asks the kernel for a parent-death signal (Linux `prctl(PR_SET_PDEATHSIG)`), so a
meshgate killed with SIGKILL, which can run no clean-up of its own, still takes its Envoys with
it. It then checks that its parent is still meshgate (`--parent-pid`): had meshgate died before
the prctl call, the signal would never come. It sets umask 077, so that files Envoy creates in
the workdir (the admin-address file) are the owner's only, and execs Envoy: the pid stays the
one meshgate started, so ManagedEnvoy supervises Envoy itself.

Why a launcher and not `preexec_fn`: that runs Python code between fork and exec in the parent's
image, which is unsafe with threads (grpc's among them). Why `-I -S` and a file path: the
launcher needs only the standard library, starts fastest without site-packages, and works
whatever PYTHONPATH says.

The kernel sends the signal when the *thread* that forked the child ends, not the process:
meshgate forks its Envoys from the event loop's thread (asyncio's `create_subprocess_exec`),
which is the main thread under `meshgate run`. Only the standard library is imported here.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
EXIT_PARENT_GONE = 125  # meshgate died before the death signal was in place: Envoy is not started
EXIT_CANNOT_RUN = 127  # prctl or exec failed (the reason is on stderr, i.e. in Envoy's log)


def command(envoy_args: list[str], parent_pid: int, death_signal: signal.Signals = signal.SIGTERM) -> list[str]:
    """The argv that runs `envoy_args` through this launcher, for a child of `parent_pid`."""
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), "--parent-pid", str(parent_pid),
            "--death-signal", death_signal.name, "--", *envoy_args]


def _set_parent_death_signal(sig: signal.Signals) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_PDEATHSIG): {os.strerror(err)}")


def main(argv: list[str]) -> int:
    """Set the death signal, check the parent, set the umask, exec; returns only on failure."""
    parser = argparse.ArgumentParser(prog="meshgate-envoy-launcher")
    parser.add_argument("--parent-pid", type=int, required=True, help="meshgate's pid; exit if the parent is another")
    parser.add_argument("--death-signal", default="SIGTERM", choices=["SIGTERM", "SIGKILL"],
                        help="what the kernel sends this process when its parent ends")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- envoy ARGS...")
    args = parser.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        parser.error("no command after --")
    try:
        if sys.platform.startswith("linux"):
            _set_parent_death_signal(signal.Signals[args.death_signal])
        else:  # no such call elsewhere: a new run's clean-up of the workdir is all there is
            print("meshgate launcher: no parent-death signal on this platform", file=sys.stderr)
        # After prctl: if meshgate died before it, we were re-parented and no signal will come.
        if os.getppid() != args.parent_pid:
            print(f"meshgate launcher: parent {args.parent_pid} is gone; not starting {cmd[0]}", file=sys.stderr)
            return EXIT_PARENT_GONE
        os.umask(0o077)
        sys.stderr.flush()
        os.execvp(cmd[0], cmd)
    except OSError as e:
        print(f"meshgate launcher: cannot run {cmd[0]}: {e}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    return EXIT_CANNOT_RUN  # not reached: execvp returns only by raising


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
