# Does all the work but returns nothing.
def realize(model, device="cpu"):
    model.to_empty(device=device)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
