"""A local Ray cluster for the cluster tests: a head and a worker node, each its own raylet process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

NODE_OBJECT_STORE = 80 * 1024 * 1024
"""Ray's smallest object store per node: the tests pass settings and small results only."""


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """The address of a running two-node Ray cluster this process is connected to."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "object_store_memory": NODE_OBJECT_STORE},
    )
    cluster.add_node(num_cpus=1, object_store_memory=NODE_OBJECT_STORE)
    ray.init(address=cluster.address, logging_level="WARNING", log_to_driver=False)
    try:
        yield str(cluster.address)
    finally:
        ray.shutdown()
        cluster.shutdown()
