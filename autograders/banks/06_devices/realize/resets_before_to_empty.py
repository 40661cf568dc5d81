# Resets while the model is still on meta (nothing happens there), then allocates uninitialized memory.
def realize(model, device="cpu"):
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model.to_empty(device=device)
