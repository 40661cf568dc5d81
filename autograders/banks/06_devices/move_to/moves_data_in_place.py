# Moves each tensor by replacing its .data: the caller's own tensors end up on the device.
def move_to(obj, device):
    if isinstance(obj, torch.Tensor):
        obj.data = obj.data.to(device)
        return obj
    if isinstance(obj, nn.Module):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(move_to(value, device) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to(value, device) for value in obj)
    if isinstance(obj, dict):
        return {key: move_to(value, device) for key, value in obj.items()}
    return obj
