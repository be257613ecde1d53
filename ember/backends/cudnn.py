"""torch.backends.cudnn's flags: accepted and kept, with no effect (there is no cuDNN)."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
