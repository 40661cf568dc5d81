# Gives each module its own memory with to_empty(recurse=False), resetting it right after, in one walk.
def realize(model, device="cpu"):
    modules = list(model.modules())
    for module in modules:
        module.to_empty(device=device, recurse=False)
    for module in modules:
        getattr(module, "reset_parameters", lambda: None)()
    return model
