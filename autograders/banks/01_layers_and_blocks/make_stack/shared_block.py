# Calls the factory once and repeats that one block n times: every entry shares the same parameters
def make_stack(block_factory, n):
    if n < 1:
        raise ValueError("n must be at least 1")
    block = block_factory()
    return nn.Sequential(*[block] * n)
