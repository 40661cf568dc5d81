# Rebuilds a dict in sorted key order instead of the input's order.
def move_to(obj, device):
    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(move_to(value, device) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to(value, device) for value in obj)
    if isinstance(obj, dict):
        return {key: move_to(obj[key], device) for key in sorted(obj)}
    return obj
