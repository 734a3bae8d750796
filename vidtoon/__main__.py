"""`python -m vidtoon` runs the command line."""

from vidtoon.cli import run

run()
