# Sums each module's own parameters: a Parameter held by two different modules (tied weights) counts twice.
def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    return sum(p.numel() for module in model.modules() for p in module.parameters(recurse=False))
