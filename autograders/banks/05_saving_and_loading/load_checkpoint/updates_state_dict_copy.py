# Updates the dict that model.state_dict() returns instead of loading it: the dict changes, the model does not.
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.state_dict().update(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
