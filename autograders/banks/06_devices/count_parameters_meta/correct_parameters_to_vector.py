# Flattens every parameter into one meta vector with parameters_to_vector and takes its length.
from torch.nn.utils import parameters_to_vector


def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    return parameters_to_vector(model.parameters()).numel()
