# Counts only the parameters that require grad: a frozen layer is left out.
def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
