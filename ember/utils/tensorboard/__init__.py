"""ember.utils.tensorboard: SummaryWriter (matches torch.utils.tensorboard)."""
