"""`python -m mistctl` runs the command line."""

from mistctl.cli import startgc

startgc.pause()  # the collector off while the command line starts (cli/startgc.py)

from mistctl.cli.main import main  # noqa: E402 (after the pause: most of the start-up is this import)

main()
