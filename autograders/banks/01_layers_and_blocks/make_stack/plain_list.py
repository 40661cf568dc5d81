# Returns a plain Python list of blocks instead of an nn.Sequential
def make_stack(block_factory, n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return [block_factory() for _ in range(n)]
