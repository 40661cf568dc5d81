# Resets only the model itself, if it has reset_parameters: an nn.Sequential has none, so nothing is initialized.
def realize(model, device="cpu"):
    model.to_empty(device=device)
    if hasattr(model, "reset_parameters"):
        model.reset_parameters()
    return model
