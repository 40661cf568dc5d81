# Passes the device to to_empty positionally, where it is a keyword-only argument: TypeError.
def realize(model, device="cpu"):
    model.to_empty(device)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model
