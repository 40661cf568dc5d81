# Builds the model in a with block, then adds the sizes up in a loop over named_parameters.
def count_parameters_meta(factory):
    with torch.device("meta"):
        model = factory()
    total = 0
    for _, parameter in model.named_parameters():
        total += parameter.nelement()
    return total
