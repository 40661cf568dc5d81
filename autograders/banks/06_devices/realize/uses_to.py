# Moves the meta model with .to(device): there is no data to copy, so it raises.
def realize(model, device="cpu"):
    model.to(device)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model
