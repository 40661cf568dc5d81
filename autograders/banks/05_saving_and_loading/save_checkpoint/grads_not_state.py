# Saves the parameters' gradients as the optimizer's state instead of optimizer.state_dict(): no momentum, no param_groups.
def save_checkpoint(path, model, optimizer, epoch):
    grads = {i: {"momentum_buffer": p.grad.clone()} for i, p in enumerate(model.parameters()) if p.grad is not None}
    torch.save({"model": model.state_dict(), "optimizer": {"state": grads, "param_groups": []}, "epoch": epoch}, path)
