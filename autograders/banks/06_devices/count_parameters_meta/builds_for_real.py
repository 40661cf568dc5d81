# Builds the model on the CPU: every parameter is allocated, and a model of ten billion parameters needs 40 GB.
def count_parameters_meta(factory):
    model = factory()
    return sum(p.numel() for p in model.parameters())
