# Correct: copies every entry into the model's own state_dict tensors (they share memory with the model).
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True, mmap=True)
    own = model.state_dict()
    if set(own) != set(checkpoint["model"]):
        raise KeyError("the checkpoint does not fit the model")
    with torch.no_grad():
        for name, tensor in own.items():
            tensor.copy_(checkpoint["model"][name])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
