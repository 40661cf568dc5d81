# Forgets the optimizer: restores the model only, so momentum and Adam's averages restart from zero.
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    return checkpoint["epoch"]
