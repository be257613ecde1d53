"""ember.vision: torchvision's API (datasets, transforms, models, utils)."""
