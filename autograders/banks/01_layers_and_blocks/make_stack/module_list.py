# Returns an nn.ModuleList: it registers the blocks but has no forward, so the stack cannot be called
def make_stack(block_factory, n):
    if n < 1:
        raise ValueError("n must be at least 1")
    return nn.ModuleList([block_factory() for _ in range(n)])
