# Counts from the shapes, with named_parameters (which yields each distinct parameter once).
import math


def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    return sum(math.prod(p.shape) for _, p in model.named_parameters())
