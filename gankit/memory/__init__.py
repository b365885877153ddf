"""Memory: how much there is and the check made before anything large is allocated (``available``), and the
footprint of a run's networks estimated before they are built (``footprint``).

The two sit on different layers: ``available`` needs only torch, so the data loaders use it too;
``footprint`` builds the networks on the meta device, so it stands above ``gankit.nets``.
"""
