# Resets the innermost modules first (model.modules() reversed), then returns the model to_empty gave back.
def realize(model, device="cpu"):
    realized = model.to_empty(device=device)
    for module in reversed(list(realized.modules())):
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return realized
