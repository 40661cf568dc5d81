# Copies every tensor (copy=True), even one already on the device, where .to(device) returns the tensor itself.
def move_to(obj, device):
    if isinstance(obj, torch.Tensor):
        return obj.to(device, copy=True)
    if isinstance(obj, nn.Module):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(move_to(value, device) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to(value, device) for value in obj)
    if isinstance(obj, dict):
        return {key: move_to(value, device) for key, value in obj.items()}
    return obj
