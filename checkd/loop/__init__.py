"""Loop: the use cases of the closed loop: checks and feedback, the registry, imports, statistics."""
