"""The training engine: optimisers, minibatches, the training step and the loop."""
