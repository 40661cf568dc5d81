# Resets only the modules without children: a layer that holds both a parameter and a child layer is skipped.
def realize(model, device="cpu"):
    model.to_empty(device=device)
    for module in model.modules():
        if not list(module.children()) and hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model
