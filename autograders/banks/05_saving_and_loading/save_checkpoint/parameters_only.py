# Saves named_parameters() instead of state_dict(): the buffers (BatchNorm's running statistics) are lost.
def save_checkpoint(path, model, optimizer, epoch):
    params = {name: p.detach() for name, p in model.named_parameters()}
    torch.save({"model": params, "optimizer": optimizer.state_dict(), "epoch": epoch}, path)
