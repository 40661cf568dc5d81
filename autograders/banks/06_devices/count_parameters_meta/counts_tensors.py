# Counts the parameter tensors, not the scalar values in them.
def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    return len(list(model.parameters()))
