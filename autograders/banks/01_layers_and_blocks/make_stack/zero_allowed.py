# Rejects only negative n: n = 0 gives an empty stack instead of ValueError
def make_stack(block_factory, n):
    if n < 0:
        raise ValueError("n must not be negative")
    return nn.Sequential(*[block_factory() for _ in range(n)])
