# Correct: saves detached copies of the state_dict's entries listed parameters first, then buffers (not in state_dict()'s order).
def save_checkpoint(path, model, optimizer, epoch):
    state = model.state_dict()
    parameters = {name for name, _ in model.named_parameters()}
    entries = {k: v.detach().clone() for k, v in state.items() if k in parameters}
    entries.update({k: v.clone() for k, v in state.items() if k not in parameters})
    torch.save({"model": entries, "optimizer": optimizer.state_dict(), "epoch": epoch}, path)
