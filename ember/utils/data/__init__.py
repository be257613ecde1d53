"""ember.utils.data: datasets, samplers, DataLoader (matches torch.utils.data)."""
