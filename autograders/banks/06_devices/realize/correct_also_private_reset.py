# Calls reset_parameters on every submodule that has one, and _reset_parameters on attention layers too.
def realize(model, device="cpu"):
    model.to_empty(device=device)
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
        elif isinstance(module, nn.MultiheadAttention):
            module._reset_parameters()
    return model
