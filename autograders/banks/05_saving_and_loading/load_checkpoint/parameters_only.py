# Copies only named_parameters() from the file: the buffers (BatchNorm's running statistics) stay as they were.
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(checkpoint["model"][name])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
