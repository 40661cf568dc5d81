# Appends a fresh block n times with nn.Sequential.append, in a while loop
def make_stack(block_factory, n):
    if n < 1:
        raise ValueError("cannot build a stack of fewer than one block")
    stack = nn.Sequential()
    while len(stack) < n:
        stack.append(block_factory())
    return stack
