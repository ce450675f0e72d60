"""Models: `mlp` (the only TensorFlow user), `collab` (the hybrid collaborative score), `blend`."""
