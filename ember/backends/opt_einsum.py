"""torch.backends.opt_einsum: opt_einsum is not used by ember (NumPy plans einsum itself)."""

enabled = False
strategy = None


def is_available() -> bool:
    return False


def get_opt_einsum():
    return None
