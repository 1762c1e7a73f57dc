"""Command modules of the ``comove`` CLI; each has ``register(app)``. Imports stay light."""
