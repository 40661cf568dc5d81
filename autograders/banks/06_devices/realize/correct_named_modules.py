# Walks named_modules explicitly, with torch.device(device) for a string or a device.
def realize(model, device="cpu"):
    device = torch.device(device)
    model.to_empty(device=device)
    for _, module in model.named_modules():
        reset = getattr(module, "reset_parameters", None)
        if reset is not None:
            reset()
    return model
