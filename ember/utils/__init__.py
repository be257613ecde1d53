"""ember.utils (matches torch.utils)."""
