# An OrderedDict of freshly made blocks under names block0, block1, ... (the names are free)
from collections import OrderedDict


def make_stack(block_factory, n):
    if n <= 0:
        raise ValueError("n must be positive")
    return nn.Sequential(OrderedDict((f"block{i}", block_factory()) for i in range(n)))
