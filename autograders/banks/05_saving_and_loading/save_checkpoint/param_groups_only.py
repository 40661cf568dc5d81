# Keeps only the optimizer's param_groups (its hyperparameters), dropping its state: the momentum buffers.
def save_checkpoint(path, model, optimizer, epoch):
    groups = optimizer.state_dict()["param_groups"]
    torch.save({"model": model.state_dict(), "optimizer": {"state": {}, "param_groups": groups},
                "epoch": epoch}, path)
