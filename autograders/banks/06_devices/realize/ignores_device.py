# Always makes the model real on the CPU, whatever device it is asked for.
def realize(model, device="cpu"):
    model.to_empty(device="cpu")
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model
