# Switches the default device to meta and never switches it back: every later tensor is made on meta.
def count_parameters_meta(factory):
    torch.set_default_device("meta")
    model = factory()
    return sum(p.numel() for p in model.parameters())
