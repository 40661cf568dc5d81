# Realizes a deep copy and returns it: the caller's model stays on the meta device.
import copy


def realize(model, device="cpu"):
    real = copy.deepcopy(model).to_empty(device=device)
    for module in real.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return real
