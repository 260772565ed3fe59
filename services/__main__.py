"""`python -m eahub` runs the `eahub` command (for environments without the console script)."""

from eahub.cli import main

if __name__ == "__main__":
    main()
