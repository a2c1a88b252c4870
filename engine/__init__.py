"""artengine: a plugin-based generative-art engine.

Importing the package is cheap on purpose (no torch): the CLI's `--help` and
`artengine plugins` must answer fast.
"""

__version__ = "0.1.0"
