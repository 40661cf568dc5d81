# Never raises: n < 1 gives an empty nn.Sequential
def make_stack(block_factory, n):
    return nn.Sequential(*[block_factory() for _ in range(n)])
