# Deep-copies one block n times: independent tensors, but one factory call and identical initial values
import copy


def make_stack(block_factory, n):
    if n < 1:
        raise ValueError("n must be at least 1")
    block = block_factory()
    return nn.Sequential(*[copy.deepcopy(block) for _ in range(n)])
