# Counts with remove_duplicate=False: a shared layer or a tied weight counts once per place it appears.
def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    return sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False))
