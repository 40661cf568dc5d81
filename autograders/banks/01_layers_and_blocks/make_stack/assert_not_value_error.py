# Checks n with assert: raises AssertionError, not ValueError
def make_stack(block_factory, n):
    assert n >= 1, "n must be at least 1"
    return nn.Sequential(*[block_factory() for _ in range(n)])
