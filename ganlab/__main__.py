"""Command line: ``python -m ganlab train dcgan [options]`` (``--help`` lists them)."""

from ganlab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
