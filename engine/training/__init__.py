"""Shared training machinery: the trainer loop and its upkeep, building trainers from run configs,
data streams, precision, EMA, sample grids and the progress display."""
