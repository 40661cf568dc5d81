# Sums model.parameters() of every module in model.modules(): a nested layer's parameters count once per ancestor.
def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    return sum(p.numel() for module in model.modules() for p in module.parameters())
