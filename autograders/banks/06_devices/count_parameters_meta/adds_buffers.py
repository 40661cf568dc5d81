# Counts the buffers along with the parameters.
def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    return sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
