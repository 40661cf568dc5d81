# Off by one: range(1, n) builds n - 1 blocks
def make_stack(block_factory, n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return nn.Sequential(*[block_factory() for _ in range(1, n)])
