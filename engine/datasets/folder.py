"""A folder of the user's own images (placeholder until the datasets work lands)."""
