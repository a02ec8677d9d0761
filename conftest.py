"""Settings shared by the whole test suite."""

import os

from hypothesis import HealthCheck, settings

# JAX compiles a new oracle the first time it sees an architecture, which can
# take a second: property tests judge correctness here, not speed.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

pytest_plugins = ["pytester"]
