# Restores the optimizer's per-parameter state but keeps the fresh optimizer's param_groups: a lowered learning rate is lost.
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict({"state": checkpoint["optimizer"]["state"],
                               "param_groups": optimizer.state_dict()["param_groups"]})
    return checkpoint["epoch"]
