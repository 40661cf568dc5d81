# Resets through Module.apply, which visits every submodule, after to_empty.
def realize(model, device="cpu"):
    def reset(module):
        if callable(getattr(module, "reset_parameters", None)):
            module.reset_parameters()

    return model.to_empty(device=device).apply(reset)
