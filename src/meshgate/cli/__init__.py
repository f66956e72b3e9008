"""The `meshgate` command line: the command group (cli/group.py) and one module per family of
commands, each registering its commands on the group when imported here."""

from . import bootstrap, certs, echo, explain, manifests, offline, serving  # noqa: F401  (registration)
from .group import main
from .options import dump

__all__ = ["dump", "main"]
