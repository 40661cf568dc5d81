# Builds the model for real and only then moves it to meta: the memory was already allocated.
def count_parameters_meta(factory):
    model = factory().to("meta")
    return sum(p.numel() for p in model.parameters())
