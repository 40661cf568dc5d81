# Moves a module with module.to(device) but forgets to return it: the caller gets None.
def move_to(obj, device):
    if isinstance(obj, nn.Module):
        obj.to(device)
    elif isinstance(obj, torch.Tensor):
        return obj.to(device)
    elif isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(move_to(value, device) for value in obj))
    elif isinstance(obj, (list, tuple)):
        return type(obj)(move_to(value, device) for value in obj)
    elif isinstance(obj, dict):
        return {key: move_to(value, device) for key, value in obj.items()}
    else:
        return obj
