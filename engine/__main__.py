"""`python -m artengine` is the same as the `artengine` command."""

from .cli import main

if __name__ == "__main__":
    main()
