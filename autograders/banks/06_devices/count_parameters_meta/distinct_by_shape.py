# Keeps the distinct parameters by shape: two different parameters of the same shape count once.
import math


def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    return sum(math.prod(shape) for shape in {tuple(p.shape) for p in model.parameters()})
