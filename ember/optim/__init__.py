"""ember.optim: optimizers and LR schedulers (matches torch.optim)."""
