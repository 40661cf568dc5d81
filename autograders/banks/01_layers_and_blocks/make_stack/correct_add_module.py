# Builds an empty nn.Sequential and adds one fresh block per loop iteration with add_module
def make_stack(block_factory, n):
    if not n >= 1:
        raise ValueError(f"make_stack needs n >= 1, got {n}")
    stack = nn.Sequential()
    for i in range(n):
        stack.add_module(str(i), block_factory())
    return stack
