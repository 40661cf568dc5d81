# load_state_dict(assign=True) puts the file's tensors in as new Parameters: the optimizer keeps updating the old ones.
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"], assign=True)
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
