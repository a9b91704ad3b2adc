"""``python -m salesml``."""

from salesml.cli import main

main()
