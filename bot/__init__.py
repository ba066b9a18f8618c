"""Runtime package of the gentle-parenting assistant (settings, NLU components, storage)."""
