"""t2m dialects: nn (tensor-level neural network ops)."""
