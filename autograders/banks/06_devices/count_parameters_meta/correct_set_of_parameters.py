# Collects the parameters of every module into a set (a Parameter hashes by identity) and sums their sizes.
def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    distinct = {p for module in model.modules() for p in module.parameters(recurse=False)}
    return sum(map(torch.Tensor.numel, distinct))
