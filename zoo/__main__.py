"""``python -m zoo`` (and ``torchrun -m zoo``) run the CLI."""

from zoo.cli import main

main()
