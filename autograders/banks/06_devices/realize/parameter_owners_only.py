# Resets only the modules that hold parameters of their own: a BatchNorm with affine=False (buffers only) is skipped.
def realize(model, device="cpu"):
    model.to_empty(device=device)
    for module in model.modules():
        if hasattr(module, "reset_parameters") and list(module.parameters(recurse=False)):
            module.reset_parameters()
    return model
