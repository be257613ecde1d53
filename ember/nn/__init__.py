"""ember.nn: modules, functional, init (matches torch.nn)."""
