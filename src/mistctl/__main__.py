"""`python -m mistctl` runs the command line."""

from mistctl.cli.main import main

main()
