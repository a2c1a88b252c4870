"""Shared training machinery: the run context, the step loop, data streams, precision, EMA."""
