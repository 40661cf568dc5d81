# Relies on torch.load's default: TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 in the environment turns unpickling back on.
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
